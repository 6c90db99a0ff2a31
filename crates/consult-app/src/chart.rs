//! The equality report as a page: a table and an SVG bar chart of respondents' shares against
//! the population's, for people who would rather look than read. Every value is escaped.

use consult_core::{EqualityReport, Flag};
use std::fmt::Write;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "suppressed".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// One characteristic's bar chart: for each category, a bar for respondents (dark) and one for
/// the population (light), scaled to the largest share.
fn svg(characteristic: &consult_core::CharacteristicReport) -> String {
    let rows = characteristic.categories.len();
    let (row_h, label_w, bar_w) = (34usize, 220usize, 360usize);
    let height = rows * row_h + 30;
    let max = characteristic
        .categories
        .iter()
        .flat_map(|c| [c.share.unwrap_or(0.0), c.population_share.unwrap_or(0.0)])
        .fold(0.0_f64, f64::max)
        .max(0.01);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg role="img" aria-labelledby="t-{k}" width="{w}" height="{height}" viewBox="0 0 {w} {height}" xmlns="http://www.w3.org/2000/svg"><title id="t-{k}">Respondents against population: {label}</title>"#,
        k = escape(&characteristic.characteristic),
        w = label_w + bar_w + 80,
        label = escape(&characteristic.characteristic),
    );
    for (i, c) in characteristic.categories.iter().enumerate() {
        let y = 20 + i * row_h;
        let share = c.share.unwrap_or(0.0);
        let population = c.population_share.unwrap_or(0.0);
        let width = |x: f64| ((x / max) * bar_w as f64).round() as usize;
        let _ = write!(
            s,
            r##"<text x="0" y="{ty}" font-size="13">{name}</text><rect x="{label_w}" y="{y}" width="{rw}" height="12" fill="#1d70b8"><title>respondents {rs}</title></rect><rect x="{label_w}" y="{y2}" width="{pw}" height="12" fill="#b1b4b6"><title>population {ps}</title></rect><text x="{tx}" y="{ty}" font-size="12">{rs}{flag}</text>"##,
            ty = y + 14,
            name = escape(&c.category),
            y2 = y + 13,
            rw = width(share),
            pw = width(population),
            rs = escape(&pct(c.share)),
            ps = escape(&pct(c.population_share)),
            tx = label_w + bar_w + 8,
            flag = match c.flag {
                Some(Flag::Under) => " under",
                Some(Flag::Over) => " over",
                None => "",
            },
        );
    }
    s.push_str("</svg>");
    s
}

/// How the figures are protected, in a sentence: public figures carry noise and hide small
/// counts (docs/DOMAIN.md, "Disclosure control"); staff see exact counts.
pub fn protection_note(report: &EqualityReport) -> &'static str {
    if report.suppressed_view {
        "To protect respondents, each count carries a little random noise and counts below 5 are hidden."
    } else {
        "Exact counts, for staff: do not publish them as they are."
    }
}

/// The whole page.
pub fn page(title: &str, report: &EqualityReport) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Who responded: {}</h1><p>{} responses. Dark bars: share of respondents who answered; light bars: share of the population. \
         {}</p>",
        escape(title),
        report.respondents,
        protection_note(report)
    );
    body.push_str(&sections(report, 2));
    document(&format!("Who responded: {title}"), &body)
}

/// A complete HTML document around `body` (already escaped).
pub fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

/// One section per characteristic, headed at `level`: the chart and the table.
pub fn sections(report: &EqualityReport, level: u8) -> String {
    let mut body = String::new();
    for c in &report.characteristics {
        let _ = write!(body, "<section><h{level}>{}</h{level}>", escape(&c.characteristic));
        body.push_str(&svg(c));
        body.push_str("<table><thead><tr><th scope=\"col\">Category</th><th scope=\"col\">Respondents</th><th scope=\"col\">Share</th><th scope=\"col\">Population</th><th scope=\"col\">Flag</th></tr></thead><tbody>");
        for k in &c.categories {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&k.category),
                k.respondents.map_or_else(|| "suppressed".to_owned(), |n| n.to_string()),
                escape(&pct(k.share)),
                escape(&pct(k.population_share)),
                match k.flag {
                    Some(Flag::Under) => "under-represented",
                    Some(Flag::Over) => "over-represented",
                    None => "",
                }
            );
        }
        let _ = write!(
            body,
            "</tbody></table><p>Prefer not to say: {}. GRI: {}.</p></section>",
            c.prefer_not_to_say
                .map_or_else(|| "suppressed".to_owned(), |n| n.to_string()),
            c.gri.map_or_else(|| "no baseline".to_owned(), |g| format!("{g:.3}"))
        );
    }
    body
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_escaped() {
        assert_eq!(
            super::escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
