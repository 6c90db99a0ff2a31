//! Documents for people: the annual review and quarterly updates as CSV and as an HTML page
//! (with the equality chart of [`crate::chart`]), the same from the API, the hub and the CLI.

use crate::chart::{document, escape, sections};
use consult_core::EngagementReview;
use std::fmt::Write;

/// The review as CSV: `section,name,value`, text cells neutralised against formula injection.
pub fn review_csv(review: &EngagementReview) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["section", "name", "value"])?;
    for row in consult_core::review_rows(review) {
        w.write_record(row.iter().map(|c| neutralise(c)))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Prefixes a cell a spreadsheet would read as a formula (or one starting with an apostrophe)
/// with an apostrophe: [`consult_core::spreadsheet::neutralise`].
pub fn neutralise(cell: &str) -> String {
    consult_core::spreadsheet::neutralise(cell).into_owned()
}

fn table(out: &mut String, caption: &str, map: &std::collections::BTreeMap<String, u64>) {
    let _ = write!(
        out,
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">What</th><th scope=\"col\">Activities</th></tr></thead><tbody>",
        escape(caption)
    );
    for (k, v) in map {
        let _ = write!(out, "<tr><td>{}</td><td>{v}</td></tr>", escape(k));
    }
    out.push_str("</tbody></table>");
}

/// "annual review 2026" or "quarterly update, quarter 3 2026".
fn title(r: &EngagementReview) -> String {
    match r.period.quarter {
        Some(q) => format!("quarterly update, quarter {q} {}", r.year),
        None => format!("annual review {}", r.year),
    }
}

/// The review as a page: summary, measures, what was asked, you said / we did, not done and why,
/// and who responded with its chart. Every value escaped.
pub fn review_html(r: &EngagementReview) -> String {
    document(&title(r), &review_body(r))
}

/// The review's content, headed by its `h1`, for a page of its own or the hub's: every value
/// escaped.
pub fn review_body(r: &EngagementReview) -> String {
    let m = &r.measures;
    let pct = |x: Option<f64>| x.map_or_else(|| "none due".to_owned(), |v| format!("{:.0}%", v * 100.0));
    let money = |x: f64| format!("£{x:.2}");
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Consultation and engagement: {title}</h1><p>Covering {scope}, {from} to {to}, as of {as_of}.</p>\
         <section><h2>The year in numbers</h2><ul>\
         <li>{acts} activities; {resp} responses to {with} of them</li>\
         <li>{methods} methods and {levels} levels of involvement used</li>\
         <li>Feedback published on time: {on_time} of {due} ({share}); {overdue} overdue</li>\
         <li>Recorded cost {cost}; cost per response {cpr}; paper and telephone surveys {paper}</li>\
         <li>Overlapping activities considered and answered: {dismissed}</li>\
         <li>Debriefs: {debriefs}; in the external evaluation sample: {external}</li>\
         <li>About how activities were run: {comments} comments, {compliments} compliments, {complaints} complaints ({resolved} resolved)</li></ul></section>",
        title = escape(&title(r)),
        from = r.period.from,
        to = r.period.to,
        scope = escape(&r.scope),
        as_of = r.as_of,
        acts = r.activities,
        resp = m.responses,
        with = m.activities_with_responses,
        methods = m.methods_used,
        levels = m.levels_used,
        on_time = m.feedback_on_time,
        due = m.feedback_due,
        share = pct(m.feedback_on_time_share),
        overdue = m.feedback_overdue,
        cost = money(m.cost),
        cpr = m.cost_per_response.map_or_else(|| "not known".to_owned(), money),
        paper = money(m.paper_and_phone_survey_cost),
        dismissed = m.overlap_findings_dismissed,
        debriefs = m.debriefs,
        external = m.external_evaluations,
        comments = r.remarks.comments,
        compliments = r.remarks.compliments,
        complaints = r.remarks.complaints,
        resolved = r.remarks.complaints_resolved,
    );
    b.push_str("<section><h2>What we asked</h2>");
    table(&mut b, "By level of involvement", &r.by_level);
    table(&mut b, "By organisation and service", &r.by_service);
    table(&mut b, "By method", &r.by_method);
    table(&mut b, "By area", &r.by_area);
    table(&mut b, "By status", &r.by_status);
    b.push_str("</section><section><h2>You said, we did</h2>");
    if r.you_said_we_did.is_empty() {
        b.push_str("<p>No feedback was published for this year's activities.</p>");
    }
    for t in &r.you_said_we_did {
        let _ = write!(
            b,
            "<article><h3>{}: {}</h3><p><strong>You said:</strong> {}</p><p><strong>We did:</strong> {}</p></article>",
            escape(&t.title),
            escape(&t.theme),
            escape(&t.you_said),
            escape(&t.response)
        );
    }
    b.push_str("</section><section><h2>What we did not do, and why</h2>");
    if r.not_done.is_empty() {
        b.push_str("<p>Nothing was recorded as not done.</p>");
    }
    for t in &r.not_done {
        let _ = write!(
            b,
            "<article><h3>{}: {}</h3><p><strong>You said:</strong> {}</p><p><strong>We did not:</strong> {}</p><p><strong>Because:</strong> {}</p></article>",
            escape(&t.title),
            escape(&t.theme),
            escape(&t.you_said),
            escape(&t.response),
            escape(t.reason.as_deref().unwrap_or_default())
        );
    }
    b.push_str("</section><section><h2>What we learned</h2>");
    if r.learning_points.is_empty() {
        b.push_str("<p>No debrief recorded a learning point.</p>");
    } else {
        b.push_str("<ul>");
        for l in &r.learning_points {
            let _ = write!(b, "<li>{} ({})</li>", escape(&l.point), escape(&l.title));
        }
        b.push_str("</ul>");
    }
    let _ = write!(
        b,
        "</section><section><h2>Who responded</h2><p>{} responses. Dark bars: share of respondents who answered; light bars: share of the population. {}</p>",
        r.equality.respondents,
        crate::chart::protection_note(&r.equality)
    );
    b.push_str(&sections(&r.equality, 3));
    b.push_str("</section>");
    b
}
