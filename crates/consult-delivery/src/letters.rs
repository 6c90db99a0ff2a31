//! Letters: the outbox's messages on the post channel, printed by a person rather than sent by
//! a provider. Each waiting letter is rendered ([`render`]) from its kind's template
//! (`templates/letter/`), then written as a mail-merge CSV ([`csv()`]: one row per letter, the
//! address in lines, every field, the letter's text) or as a printable PDF ([`pdf`]: one A4
//! letter per page or more, the address placed for the window of a DL envelope). Printing is
//! confirmed afterwards ([`consult_app::App::letters_printed`]), which marks the letters sent
//! and erases their addresses: a letter is "sent" exactly once, when a person says so.

use crate::email::RenderError;
use askama::Template;
use consult_app::delivery::Outgoing;
use consult_core::MessageKind;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use uuid::Uuid;

/// The most lines an address is printed on (the rest are joined to the last).
pub const ADDRESS_LINES: usize = 7;

/// A letter ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The message's id (printed as the letter's reference, and the key to confirm printing).
    pub id: Uuid,
    /// What it is for.
    pub kind: MessageKind,
    /// Who it is from (the owning organisation; the partnership's service for a code).
    pub from: String,
    /// The date printed on it.
    pub date: String,
    /// The address, a line each (at most [`ADDRESS_LINES`]).
    pub address: Vec<String>,
    /// The heading.
    pub heading: String,
    /// The text: paragraphs apart by blank lines.
    pub body: String,
    /// The message's fields (for a mail merge).
    pub fields: std::collections::BTreeMap<String, String>,
}

#[derive(Template)]
#[template(path = "letter/invitation.txt")]
struct InvitationLetter<'a> {
    organisation: &'a str,
    activity_title: &'a str,
    activity_summary: &'a str,
    opens_on: &'a str,
    closes_on: &'a str,
    activity_url: &'a str,
    unsubscribe_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "letter/verification.txt")]
struct VerificationLetter<'a> {
    code: &'a str,
    verify_url: &'a str,
}

/// A postal address as typed, in lines: split at commas and line breaks, blanks dropped, at
/// most [`ADDRESS_LINES`] (the rest joined to the last).
pub fn address_lines(address: &str) -> Vec<String> {
    let mut lines: Vec<String> = address
        .split([',', '\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if lines.len() > ADDRESS_LINES {
        let rest = lines.split_off(ADDRESS_LINES - 1).join(", ");
        lines.push(rest);
    }
    lines
}

/// Renders a waiting letter, dated `date` (`5 January 2026`), from `service` when its kind
/// names no organisation (a verification code).
pub fn render(o: &Outgoing, date: &str, service: &str) -> Result<Letter, RenderError> {
    let kind = o.message.kind;
    let field = |name: &'static str| {
        o.fields.get(name).map(String::as_str).ok_or(RenderError::MissingField {
            kind: kind.as_str(),
            field: name,
        })
    };
    let fail = |error| RenderError::Template {
        kind: kind.as_str(),
        error,
    };
    let (from, heading, body) = match kind {
        MessageKind::Invitation => {
            let t = InvitationLetter {
                organisation: field("organisation")?,
                activity_title: field("activity_title")?,
                activity_summary: field("activity_summary")?,
                opens_on: field("opens_on")?,
                closes_on: field("closes_on")?,
                activity_url: field("activity_url")?,
                unsubscribe_url: o.unsubscribe_url.as_deref(),
            };
            (
                t.organisation.to_owned(),
                format!("Have your say: {}", t.activity_title),
                t.render().map_err(fail)?,
            )
        }
        MessageKind::Verification => {
            let t = VerificationLetter {
                code: field("code")?,
                verify_url: field("verify_url")?,
            };
            (
                service.to_owned(),
                "Confirm your registration".to_owned(),
                t.render().map_err(fail)?,
            )
        }
        other => return Err(RenderError::NoTemplate(other.as_str())),
    };
    Ok(Letter {
        id: o.message.id,
        kind,
        from,
        date: date.to_owned(),
        address: address_lines(&o.message.recipient),
        heading,
        body: body.trim().to_owned(),
        fields: o.fields.clone(),
    })
}

/// Renders every waiting letter, dated `now` (`5 January 2026`), from `service` when a kind
/// names no organisation: what the API and the CLI print.
pub fn render_all(
    waiting: &[Outgoing],
    now: chrono::DateTime<chrono::Utc>,
    service: &str,
) -> Result<Vec<Letter>, RenderError> {
    let date = now.format("%-d %B %Y").to_string();
    waiting.iter().map(|o| render(o, &date, service)).collect()
}

/// The mail-merge file: a header, then a row per letter: `id`, `kind`, `from`, `date`,
/// `address_line_1` to `address_line_7`, `heading`, `letter` (the text), then every field any
/// letter has, by name. Cells that a spreadsheet would run as a formula are neutralised.
pub fn csv(letters: &[Letter]) -> Result<Vec<u8>, csv::Error> {
    let fields: std::collections::BTreeSet<&str> = letters
        .iter()
        .flat_map(|l| l.fields.keys().map(String::as_str))
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["id", "kind", "from", "date"].map(String::from).to_vec();
    header.extend((1..=ADDRESS_LINES).map(|i| format!("address_line_{i}")));
    header.extend(["heading", "letter"].map(String::from));
    header.extend(fields.iter().map(|f| (*f).to_owned()));
    w.write_record(&header)?;
    for l in letters {
        let mut row: Vec<String> = vec![
            l.id.to_string(),
            l.kind.as_str().to_owned(),
            l.from.clone(),
            l.date.clone(),
        ];
        row.extend((0..ADDRESS_LINES).map(|i| l.address.get(i).cloned().unwrap_or_default()));
        row.push(l.heading.clone());
        row.push(l.body.clone());
        row.extend(fields.iter().map(|f| l.fields.get(*f).cloned().unwrap_or_default()));
        w.write_record(
            row.iter()
                .map(|c| consult_core::spreadsheet::neutralise(c).into_owned()),
        )?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

// A4 in points, and where things go on it.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 62.0;
/// The top of a DL envelope's window: 50 mm from the top edge, 20 mm from the left.
const ADDRESS_TOP: f32 = PAGE_HEIGHT - 141.7;
const ADDRESS_LEFT: f32 = 56.7;
const BODY_SIZE: f32 = 11.0;
const LEADING: f32 = 15.0;
const BOTTOM: f32 = 72.0;

/// Helvetica's advance widths (per 1000 units of the font size) of the printable ASCII
/// characters, from its font metrics; others are taken as 556.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
    556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
    260, 334, 584,
];

/// How wide `text` is in Helvetica at `size` points.
fn width(text: &str, size: f32) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| {
            let i = c as usize;
            u32::from(if (32..127).contains(&i) { HELVETICA[i - 32] } else { 556 })
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Text in the PDF's WinAnsiEncoding: Latin-1 and the typographic marks people paste (curly
/// quotes, dashes, the euro); anything else becomes `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            '‚' => 0x82,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '\t' => b' ',
            c if (' '..='~').contains(&c) || ('\u{a0}'..='\u{ff}').contains(&c) => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

/// Breaks a paragraph into lines at most `max` points wide (a word longer than a line is
/// broken where it must be).
fn wrap(paragraph: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in paragraph.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if width(&candidate, size) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A word wider than the line (a long link): as many characters as fit, line by line.
        let mut rest = word;
        while width(rest, size) > max {
            let mut cut = rest.len();
            while cut > 1 && width(&rest[..cut], size) > max {
                cut = rest[..cut].char_indices().last().map_or(1, |(i, _)| i.max(1));
            }
            lines.push(rest[..cut].to_owned());
            rest = &rest[cut..];
        }
        line = rest.to_owned();
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One page being written.
struct PageText {
    content: Content,
    y: f32,
}

impl PageText {
    fn new() -> Self {
        let mut content = Content::new();
        content.begin_text();
        Self {
            content,
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    fn line(&mut self, font: &[u8], size: f32, x: f32, y: f32, text: &str) {
        self.content
            .set_font(Name(font), size)
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y])
            .show(Str(&win_ansi(text)));
    }

    fn finish(mut self) -> Vec<u8> {
        self.content.end_text();
        self.content.finish().to_vec()
    }
}

/// The letters as one PDF: each starts on a new A4 page (sender and date at the top right,
/// the address in the envelope window, the reference, the heading, the text); a long letter
/// runs on to further pages. Fonts are the standard Helvetica pair, so nothing is embedded.
pub fn pdf(letters: &[Letter]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let mut next = 6;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let mut pages: Vec<Vec<u8>> = Vec::new();
    let text_width = PAGE_WIDTH - 2.0 * MARGIN;
    for l in letters {
        let mut page = PageText::new();
        // Sender and date, right-aligned.
        for (font, text) in [(b"F2".as_slice(), l.from.as_str()), (b"F1".as_slice(), l.date.as_str())] {
            let x = PAGE_WIDTH - MARGIN - width(text, BODY_SIZE);
            page.line(font, BODY_SIZE, x.max(MARGIN), page.y, text);
            page.y -= LEADING;
        }
        let mut y = ADDRESS_TOP - BODY_SIZE;
        for a in &l.address {
            page.line(b"F1", BODY_SIZE, ADDRESS_LEFT, y, a);
            y -= LEADING;
        }
        page.y = y.min(ADDRESS_TOP - 8.0 * LEADING) - LEADING;
        page.line(b"F1", 8.0, MARGIN, page.y, &format!("Reference: {}", l.id));
        page.y -= 2.0 * LEADING;
        for line in wrap(&l.heading, 14.0, text_width) {
            page.line(b"F2", 14.0, MARGIN, page.y, &line);
            page.y -= 19.0;
        }
        page.y -= LEADING / 2.0;
        for paragraph in l.body.split("\n\n") {
            for line in wrap(paragraph, BODY_SIZE, text_width) {
                if page.y < BOTTOM {
                    pages.push(std::mem::replace(&mut page, PageText::new()).finish());
                }
                page.line(b"F1", BODY_SIZE, MARGIN, page.y, &line);
                page.y -= LEADING;
            }
            page.y -= LEADING / 2.0;
        }
        pages.push(page.finish());
    }
    let ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(ids.iter().map(|(p, _)| *p))
        .count(i32::try_from(ids.len()).unwrap_or(i32::MAX));
    for ((page_id, content_id), content) in ids.iter().zip(&pages) {
        let mut page = pdf.page(*page_id);
        page.parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .contents(*content_id);
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Name(b"F1"), regular).pair(Name(b"F2"), bold);
        fonts.finish();
        resources.finish();
        page.finish();
        pdf.stream(*content_id, content);
    }
    for (id, name) in [(regular, b"Helvetica".as_slice()), (bold, b"Helvetica-Bold".as_slice())] {
        pdf.type1_font(id)
            .base_font(Name(name))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(pdf_writer::TextStr("Letters"))
        .creator(pdf_writer::TextStr("consult"));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_split_into_at_most_seven_lines() {
        assert_eq!(
            address_lines("Ann Smith, 1 Market Street\nTamworth,, B79 7BZ "),
            ["Ann Smith", "1 Market Street", "Tamworth", "B79 7BZ"]
        );
        let long = address_lines("a,b,c,d,e,f,g,h,i");
        assert_eq!(long.len(), ADDRESS_LINES);
        assert_eq!(long[6], "g, h, i");
    }

    #[test]
    fn lines_fit_the_width_and_keep_every_word() {
        let text = "You can take part from 5 January 2026 until 16 February 2026. Find out more at \
                    https://consult.example.gov.uk/activities/0190a3b2-5c4d-7e8f-9a0b-1c2d3e4f5a6b today.";
        let lines = wrap(text, 11.0, 200.0);
        assert!(lines.len() > 3, "{lines:?}");
        assert!(lines.iter().all(|l| width(l, 11.0) <= 200.0), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn text_is_encoded_for_win_ansi() {
        assert_eq!(win_ansi("£5 – “fine” é"), b"\xa35 \x96 \x93fine\x94 \xe9");
        assert_eq!(win_ansi("日本"), b"??");
    }
}
