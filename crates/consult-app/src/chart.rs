//! Charts for people who would rather look than read, each beside a table of the same figures:
//! the equality report as a page (an SVG bar chart of respondents' shares against the
//! population's), and the accessible bar and stacked bar charts of the analysis per question
//! ([`bar_chart`], [`stacked_chart`], used by [`crate::analysis_render`]). Every value is
//! escaped.

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

/// One bar of a [`bar_chart`].
#[derive(Debug, Clone)]
pub struct Bar {
    /// What the bar counts (an option's label).
    pub label: String,
    /// Its length in any unit; `None` when hidden (no bar is drawn).
    pub value: Option<f64>,
    /// The figure written beside it ("12 (30.0%)", "fewer than 5").
    pub text: String,
}

/// A label cut to `max` characters (with an ellipsis) to fit beside a chart; the full text is in
/// the chart's description and the table beside it.
fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        let mut s: String = label.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// The opening of an accessible chart: `role="img"` named by its title and described by every
/// figure (`desc`), so a screen reader hears what the bars show.
fn open_svg(id: &str, title: &str, desc: &str, width: usize, height: usize) -> String {
    let id = escape(id);
    format!(
        r#"<svg class="chart" role="img" aria-labelledby="{id}-t {id}-d" width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        escape(title),
        escape(desc)
    )
}

/// A horizontal bar chart, one bar per item scaled to the largest shown value, each with its
/// label before it and its figure after it; a hidden value has no bar, only its figure.
/// `id` must be unique on the page. Every value escaped.
pub fn bar_chart(id: &str, title: &str, bars: &[Bar]) -> String {
    let (row_h, label_w, bar_w, text_w) = (28usize, 200usize, 300usize, 150usize);
    let height = bars.len() * row_h + 10;
    let max = bars
        .iter()
        .filter_map(|b| b.value)
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let desc: Vec<String> = bars.iter().map(|b| format!("{}: {}", b.label, b.text)).collect();
    let mut s = open_svg(id, title, &desc.join("; "), label_w + bar_w + text_w, height);
    for (i, b) in bars.iter().enumerate() {
        let y = 5 + i * row_h;
        let width = b.value.map_or(0, |v| ((v / max) * bar_w as f64).round() as usize);
        let _ = write!(
            s,
            r##"<text x="0" y="{ty}" font-size="13" fill="#0b0c0c">{label}</text>"##,
            ty = y + 14,
            label = escape(&short(&b.label, 28)),
        );
        if width > 0 {
            let _ = write!(
                s,
                r##"<rect x="{label_w}" y="{y}" width="{width}" height="18" fill="#1d70b8"></rect>"##
            );
        }
        let _ = write!(
            s,
            r##"<text x="{tx}" y="{ty}" font-size="13" fill="#0b0c0c">{text}</text>"##,
            tx = label_w + width + 6,
            ty = y + 14,
            text = escape(&b.text),
        );
    }
    s.push_str("</svg>");
    s
}

/// One part of a [`StackedRow`]: a point of a scale and how many gave it.
#[derive(Debug, Clone)]
pub struct Segment {
    /// The point ("4").
    pub label: String,
    /// How many gave it; `None` when hidden (no segment is drawn).
    pub value: Option<f64>,
    /// The figure in words ("12", "fewer than 5").
    pub text: String,
}

/// One bar of a [`stacked_chart`]: a statement and its answers over the points of a scale.
#[derive(Debug, Clone)]
pub struct StackedRow {
    /// The statement.
    pub label: String,
    /// The answers the whole bar stands for (`None`: the sum of the shown segments).
    pub total: Option<f64>,
    /// The points, in order.
    pub segments: Vec<Segment>,
}

/// The `i`th of `n` shades from light to dark blue.
fn shade(i: usize, n: usize) -> String {
    let t = if n <= 1 { 1.0 } else { i as f64 / (n - 1) as f64 };
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(0xc5, 0x0b), mix(0xdb, 0x2e), mix(0xef, 0x52))
}

/// A stacked bar per row (a grid's statements): each segment a point of the scale, as wide as
/// its share of the row's answers, shaded light to dark, with a legend of the points above
/// (`point` is the word for a point). A hidden segment is not drawn, so its share shows as a
/// gap at the bar's end. Every value escaped.
pub fn stacked_chart(id: &str, title: &str, point: &str, rows: &[StackedRow]) -> String {
    let (row_h, label_w, bar_w, key_h) = (28usize, 200usize, 400usize, 22usize);
    let points = rows.iter().map(|r| r.segments.len()).max().unwrap_or(0);
    let width = label_w + bar_w + 20;
    // The legend's keys, laid out left to right and wrapped to the chart's width (about 7
    // pixels a character at 12 pixels).
    let labels = rows.first().map(|r| r.segments.as_slice()).unwrap_or_default();
    let mut keys: Vec<(usize, usize, String)> = Vec::new();
    let (mut x, mut y) = (0usize, 0usize);
    for g in labels {
        let label = format!("{point} {}", g.label);
        let w = 18 + label.chars().count() * 7 + 14;
        if x > 0 && x + w > width {
            (x, y) = (0, y + key_h);
        }
        keys.push((x, y, label));
        x += w;
    }
    let legend_h = if keys.is_empty() { 0 } else { y + key_h + 6 };
    let height = legend_h + rows.len() * row_h + 10;
    let desc: Vec<String> = rows
        .iter()
        .map(|r| {
            let parts: Vec<String> = r
                .segments
                .iter()
                .map(|g| format!("{point} {} {}", g.label, g.text))
                .collect();
            format!("{}: {}", r.label, parts.join(", "))
        })
        .collect();
    let mut s = open_svg(id, title, &desc.join("; "), width, height);
    for (i, (x, y, label)) in keys.iter().enumerate() {
        let _ = write!(
            s,
            r##"<rect x="{x}" y="{ry}" width="14" height="14" fill="{fill}" stroke="#0b0c0c" stroke-width="0.5"></rect><text x="{tx}" y="{ty}" font-size="12" fill="#0b0c0c">{label}</text>"##,
            ry = y + 4,
            ty = y + 16,
            fill = shade(i, points),
            tx = x + 18,
            label = escape(label),
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = legend_h + 5 + i * row_h;
        let total = r
            .total
            .unwrap_or_else(|| r.segments.iter().filter_map(|g| g.value).sum())
            .max(f64::MIN_POSITIVE);
        let _ = write!(
            s,
            r##"<text x="0" y="{ty}" font-size="13" fill="#0b0c0c">{label}</text>"##,
            ty = y + 14,
            label = escape(&short(&r.label, 28)),
        );
        let mut x = label_w as f64;
        for (j, g) in r.segments.iter().enumerate() {
            let Some(v) = g.value else { continue };
            let w = (v / total * bar_w as f64).min(bar_w as f64);
            if w >= 0.5 {
                let _ = write!(
                    s,
                    r##"<rect x="{x:.1}" y="{y}" width="{w:.1}" height="18" fill="{fill}"></rect>"##,
                    fill = shade(j, points),
                );
            }
            x += w;
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::{Bar, Segment, StackedRow, bar_chart, stacked_chart};

    #[test]
    fn charts_are_named_described_and_escaped() {
        let bars = [
            Bar {
                label: "<script>alert(1)</script> & a label far too long to fit beside the bars".into(),
                value: Some(30.0),
                text: "30 (75.0%)".into(),
            },
            Bar {
                label: "No".into(),
                value: None,
                text: "fewer than 5".into(),
            },
        ];
        let svg = bar_chart("chart-q", "Answers to <q>", &bars);
        assert!(svg.starts_with(r#"<svg class="chart" role="img" aria-labelledby="chart-q-t chart-q-d""#));
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a label far too long to fit beside the bars: 30 (75.0%)"
        ));
        assert!(svg.contains("No: fewer than 5"));
        // One bar: the hidden one has none.
        assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
        let rows = [StackedRow {
            label: "Safe".into(),
            total: Some(10.0),
            segments: vec![
                Segment {
                    label: "1".into(),
                    value: None,
                    text: "fewer than 5".into(),
                },
                Segment {
                    label: "2".into(),
                    value: Some(6.0),
                    text: "6".into(),
                },
            ],
        }];
        let svg = stacked_chart("chart-g", "Grid", "Point", &rows);
        assert!(svg.contains("Safe: Point 1 fewer than 5, Point 2 6"), "{svg}");
        // Two legend keys and one segment, 60% of the bar.
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains(r#"width="240.0""#), "{svg}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            super::escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
