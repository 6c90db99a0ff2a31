//! An activity's analysis per question for people and spreadsheets: one row per part of a
//! question as CSV ([`analysis_rows`], [`analysis_csv`], the same rows the CLI prints), and an
//! accessible page ([`analysis_html`], [`analysis_sections`] for the hub's own layout): per
//! question a heading, an SVG bar chart with its text alternative and a table of the same
//! figures, and with a breakdown a table of groups by answers. A hidden count (public figures,
//! docs/DOMAIN.md "Disclosure control") is written "fewer than 5", never 0; free text is never
//! shown, only how many answered and the themes the analysis lists. Every value is escaped.

use crate::chart::{Bar, Segment, StackedRow, bar_chart, document, escape, stacked_chart};
use consult_core::{
    Analysis, GroupAnalysis, OptionCount, QuestionAnalysis, QuestionKind, QuestionType, Questionnaire, RankCount,
    ReportSettings, Scale, StatementAnalysis, ValueCount,
};
use std::fmt::Write;

/// The columns of [`analysis_rows`], in order.
///
/// - `question`, `type`: the question's key and type;
/// - `group`: `all`, or with a breakdown the group's key;
/// - `answered`: how many (of the group) answered the question;
/// - `part`: what the row is: `question` (one per question and group: `mean` and `median` of a
///   scale or number), `option` (a choice's option or `other`: `count`, `share`, interval),
///   `value` (a point of a scale or a value of a number: `value`, `count`), `rank` (a ranking's
///   option: `count` first choices, `mean` its average rank), `statement` (a grid's statement:
///   `count` answers, `mean`, `median`), `statement_value` (a point of a statement: `value`,
///   `count`), `coded` (free text: `count` answers coded), `theme` (free text: `count` answers
///   coded with the theme);
/// - `item`, `label`: the option's, statement's or theme's key and label;
/// - `hidden`: `true` when the row's count (or a `question` row's `answered`) is hidden in the
///   public figures (fewer than 5, or hidden so that another cannot be worked out); such a
///   count is empty, never 0.
pub const ANALYSIS_COLUMNS: [&str; 15] = [
    "question",
    "type",
    "group",
    "answered",
    "part",
    "item",
    "label",
    "value",
    "count",
    "share",
    "interval_low",
    "interval_high",
    "mean",
    "median",
    "hidden",
];

/// A number as a cell: empty when absent.
fn num(x: Option<f64>) -> String {
    x.map(|x| x.to_string()).unwrap_or_default()
}

/// A count as a cell: empty when hidden.
fn count(x: Option<u64>) -> String {
    x.map(|x| x.to_string()).unwrap_or_default()
}

/// The parts of a question's analysis, for the whole activity or one group.
struct Parts<'a> {
    answered: Option<u64>,
    options: Option<&'a [OptionCount]>,
    mean: Option<f64>,
    median: Option<f64>,
    distribution: Option<&'a [ValueCount]>,
    ranking: Option<&'a [RankCount]>,
    statements: Option<&'a [StatementAnalysis]>,
}

impl<'a> Parts<'a> {
    fn whole(q: &'a QuestionAnalysis) -> Parts<'a> {
        Parts {
            answered: q.answered,
            options: q.options.as_deref(),
            mean: q.mean,
            median: q.median,
            distribution: q.distribution.as_deref(),
            ranking: q.ranking.as_deref(),
            statements: q.statements.as_deref(),
        }
    }

    fn group(g: &'a GroupAnalysis) -> Parts<'a> {
        Parts {
            answered: g.answered,
            options: g.options.as_deref(),
            mean: g.mean,
            median: g.median,
            distribution: g.distribution.as_deref(),
            ranking: g.ranking.as_deref(),
            statements: g.statements.as_deref(),
        }
    }
}

/// One row of [`ANALYSIS_COLUMNS`] being built.
#[derive(Default)]
struct Row {
    part: &'static str,
    item: String,
    label: String,
    value: Option<f64>,
    count: Option<u64>,
    /// Whether the row has a count at all (a `question` row's is `answered`).
    counted: bool,
    share: Option<f64>,
    interval: Option<[f64; 2]>,
    mean: Option<f64>,
    median: Option<f64>,
}

/// The rows of one question for one group.
fn part_rows(out: &mut Vec<Vec<String>>, q: &QuestionAnalysis, group: &str, p: &Parts<'_>, whole: bool) {
    let mut push = |r: Row| {
        let hidden = if r.part == "question" {
            p.answered.is_none()
        } else {
            r.counted && r.count.is_none()
        };
        out.push(vec![
            q.key.clone(),
            q.kind.as_str().to_owned(),
            group.to_owned(),
            count(p.answered),
            r.part.to_owned(),
            r.item,
            r.label,
            num(r.value),
            count(r.count),
            num(r.share),
            num(r.interval.map(|i| i[0])),
            num(r.interval.map(|i| i[1])),
            num(r.mean),
            num(r.median),
            hidden.to_string(),
        ]);
    };
    push(Row {
        part: "question",
        mean: p.mean,
        median: p.median,
        ..Row::default()
    });
    for o in p.options.into_iter().flatten() {
        push(Row {
            part: "option",
            item: o.key.clone(),
            label: o.label.clone(),
            count: o.count,
            counted: true,
            share: o.share,
            interval: o.interval,
            ..Row::default()
        });
    }
    for d in p.distribution.into_iter().flatten() {
        push(Row {
            part: "value",
            value: Some(d.value),
            count: d.count,
            counted: true,
            ..Row::default()
        });
    }
    for r in p.ranking.into_iter().flatten() {
        push(Row {
            part: "rank",
            item: r.key.clone(),
            label: r.label.clone(),
            count: r.first,
            counted: true,
            mean: r.mean_rank,
            ..Row::default()
        });
    }
    for s in p.statements.into_iter().flatten() {
        push(Row {
            part: "statement",
            item: s.key.clone(),
            label: s.text.clone(),
            count: s.answered,
            counted: true,
            mean: s.mean,
            median: s.median,
            ..Row::default()
        });
        for d in &s.distribution {
            push(Row {
                part: "statement_value",
                item: s.key.clone(),
                label: s.text.clone(),
                value: Some(d.value),
                count: d.count,
                counted: true,
                ..Row::default()
            });
        }
    }
    // Coding progress and themes are counted for the whole activity only.
    if whole {
        if q.coded.is_some() || q.kind == QuestionType::FreeText && q.answered.is_some() {
            push(Row {
                part: "coded",
                count: q.coded,
                counted: true,
                ..Row::default()
            });
        }
        for t in &q.themes {
            push(Row {
                part: "theme",
                item: t.key.clone(),
                label: t.label.clone(),
                count: Some(t.count),
                counted: true,
                ..Row::default()
            });
        }
    }
}

/// One row per part of each question ([`ANALYSIS_COLUMNS`]), for the whole activity (group
/// `all`) and, with a breakdown, for each group: the figures of the JSON, nothing else.
pub fn analysis_rows(a: &Analysis) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for q in &a.questions {
        part_rows(&mut out, q, "all", &Parts::whole(q), true);
        for g in q.breakdown.iter().flatten() {
            part_rows(&mut out, q, &g.group, &Parts::group(g), false);
        }
    }
    out
}

/// The analysis as CSV: a header of [`ANALYSIS_COLUMNS`], then [`analysis_rows`], text cells
/// neutralised against formula injection ([`crate::render::neutralise`]).
pub fn analysis_csv(a: &Analysis) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(ANALYSIS_COLUMNS)?;
    for row in analysis_rows(a) {
        w.write_record(row.iter().map(|c| crate::render::neutralise(c)))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The words of the analysis page, one place to translate (the hub holds its own copy in its
/// `Text`).
#[derive(Debug, Clone, Copy)]
pub struct Words {
    /// "fewer than" (a hidden count is "fewer than 5").
    pub fewer_than: &'static str,
    /// "answered" ("40 answered").
    pub answered: &'static str,
    /// Shown for a question whose answered count is hidden.
    pub too_few: &'static str,
    /// "Answer" (a table's first column for choices).
    pub answer: &'static str,
    /// "Responses" (a count's column).
    pub responses: &'static str,
    /// "Share" (of those who answered).
    pub share: &'static str,
    /// "95% interval".
    pub interval: &'static str,
    /// "to" (between an interval's ends).
    pub to: &'static str,
    /// "Point" (of a scale).
    pub point: &'static str,
    /// "Value" (of a number).
    pub value: &'static str,
    /// "Mean".
    pub mean: &'static str,
    /// "Median".
    pub median: &'static str,
    /// "not shown" (a figure withheld because a count it depends on is hidden).
    pub not_shown: &'static str,
    /// "Option" (of a ranking).
    pub option: &'static str,
    /// "Average rank (1 is first)".
    pub average_rank: &'static str,
    /// "Ranked first".
    pub first: &'static str,
    /// "Statement" (of a grid).
    pub statement: &'static str,
    /// "Theme".
    pub theme: &'static str,
    /// Said of free text: its answers are never shown one by one.
    pub free_text: &'static str,
    /// "Answers coded with a theme" (coding progress).
    pub coded: &'static str,
    /// Said when no theme is listed.
    pub no_themes: &'static str,
    /// "Group" (of a breakdown).
    pub group: &'static str,
    /// "By" ("By sex: ...", the caption of a breakdown's table).
    pub by: &'static str,
    /// "Answers to:" (a table's caption before the question).
    pub chart_of: &'static str,
    /// A bar chart's title before the question.
    pub bar_chart: &'static str,
    /// A grid's stacked bar chart's title before the question.
    pub stacked_chart: &'static str,
    /// The note on public figures.
    pub public_note: &'static str,
    /// The note on staff figures.
    pub staff_note: &'static str,
    /// "responses" ("40 responses").
    pub respondents: &'static str,
    /// "Results" (the page's title before the activity's).
    pub results: &'static str,
    /// Said when the activity has no questionnaire.
    pub no_questions: &'static str,
}

/// The English words of the analysis page.
pub const ENGLISH: Words = Words {
    fewer_than: "fewer than",
    answered: "answered",
    too_few: "So few answered this question that its results are not shown.",
    answer: "Answer",
    responses: "Responses",
    share: "Share",
    interval: "95% interval",
    to: "to",
    point: "Point",
    value: "Value",
    mean: "Mean",
    median: "Median",
    not_shown: "not shown",
    option: "Option",
    average_rank: "Average rank (1 is first)",
    first: "Ranked first",
    statement: "Statement",
    theme: "Theme",
    free_text: "Answers in people's own words are read and grouped into themes; they are never published one by one.",
    coded: "Answers coded with a theme",
    no_themes: "No theme was raised often enough to be listed.",
    group: "Group",
    by: "By",
    chart_of: "Answers to:",
    bar_chart: "Bar chart of the answers to:",
    stacked_chart: "Stacked bar chart, one bar per statement spread over the points of the scale, of the answers to:",
    public_note: "To protect respondents, each count carries a little random noise and counts below 5 are hidden; shares are of those who answered the question.",
    staff_note: "Exact counts, for staff: do not publish them as they are.",
    respondents: "responses",
    results: "Results",
    no_questions: "This activity had no questionnaire.",
};

/// How a figure reads in words and tables.
struct Say<'a> {
    w: &'a Words,
    threshold: u64,
    questionnaire: Option<&'a Questionnaire>,
}

impl Say<'_> {
    /// The scale of a scale or grid question, from the questionnaire if given.
    fn scale(&self, key: &str) -> Option<&Scale> {
        self.questionnaire?
            .questions()
            .find(|q| q.key == key)
            .and_then(|q| match &q.kind {
                QuestionKind::Scale(scale) | QuestionKind::Grid { scale, .. } => Some(scale),
                _ => None,
            })
    }

    /// A point of a question's scale, with the end's label where it has one: "1 (Not at all)".
    fn point(&self, key: &str, value: f64) -> String {
        let label = self.scale(key).and_then(|s| {
            if value == s.min as f64 {
                s.min_label.as_deref()
            } else if value == s.max as f64 {
                s.max_label.as_deref()
            } else {
                None
            }
        });
        match label {
            Some(l) => format!("{value} ({l})"),
            None => value.to_string(),
        }
    }

    fn count(&self, c: Option<u64>) -> String {
        c.map_or_else(
            || format!("{} {}", self.w.fewer_than, self.threshold),
            |n| n.to_string(),
        )
    }

    fn pct(&self, x: Option<f64>) -> String {
        x.map_or_else(|| self.w.not_shown.to_owned(), |v| format!("{:.1}%", v * 100.0))
    }

    fn interval(&self, i: Option<[f64; 2]>) -> String {
        i.map_or_else(
            || self.w.not_shown.to_owned(),
            |[lo, hi]| format!("{:.1}% {} {:.1}%", lo * 100.0, self.w.to, hi * 100.0),
        )
    }

    fn number(&self, x: Option<f64>) -> String {
        x.map_or_else(
            || self.w.not_shown.to_owned(),
            |v| format!("{}", (v * 100.0).round() / 100.0),
        )
    }

    /// "12 (30.0%)" or "fewer than 5".
    fn count_share(&self, c: Option<u64>, share: Option<f64>) -> String {
        match (c, share) {
            (Some(n), Some(s)) => format!("{n} ({:.1}%)", s * 100.0),
            (c, _) => self.count(c),
        }
    }
}

/// Headings, tables and charts of every question, headed at `level` (2 on a page of its own),
/// in `w`'s words; ids `q-<key>` and `chart-<key>`. With the `questionnaire`, a scale's end
/// points carry their labels ("1 (Not at all)"). Every value escaped.
pub fn analysis_sections(a: &Analysis, questionnaire: Option<&Questionnaire>, level: u8, w: &Words) -> String {
    let say = Say {
        w,
        threshold: ReportSettings::default().suppression_threshold,
        questionnaire,
    };
    let mut b = String::new();
    if a.questions.is_empty() {
        let _ = write!(b, "<p>{}</p>", escape(w.no_questions));
    }
    for q in &a.questions {
        let key = escape(&q.key);
        let _ = write!(
            b,
            "<section class=\"question-result\" aria-labelledby=\"q-{key}\"><h{level} id=\"q-{key}\">{}</h{level}>",
            escape(&q.text)
        );
        match q.answered {
            None => {
                let _ = write!(b, "<p>{}</p></section>", escape(w.too_few));
                continue;
            }
            Some(n) => {
                // A perturbed count can pass the (exact) respondents: said as at most that.
                let _ = write!(b, "<p>{} {}.</p>", n.min(a.respondents), escape(w.answered));
            }
        }
        question_body(&mut b, q, &say);
        if let (Some(breakdown), Some(by)) = (&q.breakdown, &a.by) {
            breakdown_table(&mut b, a, q, breakdown, by, &say);
        }
        b.push_str("</section>");
    }
    b
}

/// `<caption>` text of a question's table.
fn caption(q: &QuestionAnalysis, w: &Words) -> String {
    format!("{} {}", escape(w.chart_of), escape(&q.text))
}

/// A bar chart's title: "Bar chart of the answers to: <question>".
fn chart_title(q: &QuestionAnalysis, w: &Words) -> String {
    format!("{} {}", w.bar_chart, q.text)
}

/// The chart, table and notes of one question (whose `answered` is shown).
fn question_body(b: &mut String, q: &QuestionAnalysis, say: &Say<'_>) {
    let w = say.w;
    let id = format!("chart-{}", q.key);
    b.push_str("<div class=\"result\">");
    if let Some(options) = &q.options {
        let bars: Vec<Bar> = options
            .iter()
            .map(|o| Bar {
                label: o.label.clone(),
                value: o.count.map(|n| n as f64),
                text: say.count_share(o.count, o.share),
            })
            .collect();
        b.push_str(&bar_chart(&id, &chart_title(q, w), &bars));
        let _ = write!(
            b,
            "<table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            caption(q, w),
            escape(w.answer),
            escape(w.responses),
            escape(w.share),
            escape(w.interval)
        );
        for o in options {
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&o.label),
                escape(&say.count(o.count)),
                escape(&say.pct(o.share)),
                escape(&say.interval(o.interval))
            );
        }
        b.push_str("</tbody></table>");
    }
    if let Some(distribution) = &q.distribution {
        let header = if q.kind == QuestionType::Scale {
            w.point
        } else {
            w.value
        };
        let bars: Vec<Bar> = distribution
            .iter()
            .map(|d| Bar {
                label: say.point(&q.key, d.value),
                value: d.count.map(|n| n as f64),
                text: say.count(d.count),
            })
            .collect();
        b.push_str(&bar_chart(&id, &chart_title(q, w), &bars));
        let _ = write!(
            b,
            "<table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            caption(q, w),
            escape(header),
            escape(w.responses)
        );
        for d in distribution {
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                escape(&say.point(&q.key, d.value)),
                escape(&say.count(d.count))
            );
        }
        b.push_str("</tbody></table>");
    }
    if let Some(ranking) = &q.ranking {
        let bars: Vec<Bar> = ranking
            .iter()
            .map(|r| Bar {
                label: r.label.clone(),
                value: r.first.map(|n| n as f64),
                text: format!("{} {}", say.count(r.first), w.first.to_lowercase()),
            })
            .collect();
        b.push_str(&bar_chart(&id, &chart_title(q, w), &bars));
        let _ = write!(
            b,
            "<table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            caption(q, w),
            escape(w.option),
            escape(w.average_rank),
            escape(w.first)
        );
        for r in ranking {
            let _ = write!(
                b,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>",
                escape(&r.label),
                escape(&say.number(r.mean_rank)),
                escape(&say.count(r.first))
            );
        }
        b.push_str("</tbody></table>");
    }
    if let Some(statements) = &q.statements {
        grid(b, q, statements, &id, say);
    }
    if q.kind == QuestionType::FreeText {
        free_text(b, q, &id, say);
    }
    b.push_str("</div>");
    if q.mean.is_some() || q.median.is_some() || (q.kind == QuestionType::Scale && q.distribution.is_some()) {
        let _ = write!(
            b,
            "<p>{}: {}. {}: {}.</p>",
            escape(w.mean),
            escape(&say.number(q.mean)),
            escape(w.median),
            escape(&say.number(q.median))
        );
    }
}

/// A grid: a stacked bar per statement over the scale's points, and a table of statements by
/// points with each one's mean and median.
fn grid(b: &mut String, q: &QuestionAnalysis, statements: &[StatementAnalysis], id: &str, say: &Say<'_>) {
    let w = say.w;
    let rows: Vec<StackedRow> = statements
        .iter()
        .map(|s| StackedRow {
            label: s.text.clone(),
            total: s.answered.map(|n| n as f64),
            segments: s
                .distribution
                .iter()
                .map(|d| Segment {
                    label: say.point(&q.key, d.value),
                    value: d.count.map(|n| n as f64),
                    text: say.count(d.count),
                })
                .collect(),
        })
        .collect();
    b.push_str(&stacked_chart(
        id,
        &format!("{} {}", w.stacked_chart, q.text),
        w.point,
        &rows,
    ));
    let points: Vec<f64> = statements
        .first()
        .map(|s| s.distribution.iter().map(|d| d.value).collect())
        .unwrap_or_default();
    let _ = write!(
        b,
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>",
        caption(q, w),
        escape(w.statement),
        escape(w.responses)
    );
    for p in &points {
        let _ = write!(
            b,
            "<th scope=\"col\">{} {}</th>",
            escape(w.point),
            escape(&say.point(&q.key, *p))
        );
    }
    let _ = write!(
        b,
        "<th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        escape(w.mean),
        escape(w.median)
    );
    for s in statements {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{}</td>",
            escape(&s.text),
            escape(&say.count(s.answered))
        );
        for d in &s.distribution {
            let _ = write!(b, "<td>{}</td>", escape(&say.count(d.count)));
        }
        let _ = write!(
            b,
            "<td>{}</td><td>{}</td></tr>",
            escape(&say.number(s.mean)),
            escape(&say.number(s.median))
        );
    }
    b.push_str("</tbody></table>");
}

/// Free text: never an answer; coding progress and the themes the analysis lists (the public
/// one lists only themes raised by 5 or more), as a bar chart and a table.
fn free_text(b: &mut String, q: &QuestionAnalysis, id: &str, say: &Say<'_>) {
    let w = say.w;
    let _ = write!(b, "<p>{}</p>", escape(w.free_text));
    if q.coded.is_some() || q.themes.is_empty() {
        let _ = write!(b, "<p>{}: {}.</p>", escape(w.coded), escape(&say.count(q.coded)));
    }
    if q.themes.is_empty() {
        let _ = write!(b, "<p>{}</p>", escape(w.no_themes));
        return;
    }
    let bars: Vec<Bar> = q
        .themes
        .iter()
        .map(|t| Bar {
            label: t.label.clone(),
            value: Some(t.count as f64),
            text: t.count.to_string(),
        })
        .collect();
    b.push_str(&bar_chart(id, &chart_title(q, w), &bars));
    let _ = write!(
        b,
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        caption(q, w),
        escape(w.theme),
        escape(w.responses)
    );
    for t in &q.themes {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            escape(&t.label),
            t.count
        );
    }
    b.push_str("</tbody></table>");
}

/// A question's breakdown: a row per group (its answered count, then each option's count, each
/// point's, each ranked option's first choices or each statement's mean; a number's mean and
/// median).
fn breakdown_table(
    b: &mut String,
    a: &Analysis,
    q: &QuestionAnalysis,
    breakdown: &[GroupAnalysis],
    by: &str,
    say: &Say<'_>,
) {
    let w = say.w;
    let label = |group: &str| {
        a.groups
            .iter()
            .flatten()
            .find(|g| g.group == group)
            .map_or_else(|| group.to_owned(), |g| g.label.clone())
    };
    // The columns after `answered`: their headings and, per group, their cells.
    let mut heads: Vec<String> = Vec::new();
    if let Some(options) = &q.options {
        heads.extend(options.iter().map(|o| o.label.clone()));
    } else if let (QuestionType::Scale, Some(d)) = (q.kind, &q.distribution) {
        heads.extend(d.iter().map(|d| format!("{} {}", w.point, say.point(&q.key, d.value))));
    } else if let Some(ranking) = &q.ranking {
        heads.extend(
            ranking
                .iter()
                .map(|r| format!("{}: {}", r.label, w.first.to_lowercase())),
        );
    } else if let Some(statements) = &q.statements {
        heads.extend(
            statements
                .iter()
                .map(|s| format!("{}: {}", s.text, w.mean.to_lowercase())),
        );
    }
    let numeric = q.kind == QuestionType::Number && breakdown.iter().any(|g| g.mean.is_some() || g.median.is_some());
    if numeric {
        heads.extend([w.mean.to_owned(), w.median.to_owned()]);
    }
    let _ = write!(
        b,
        "<table class=\"breakdown\"><caption>{} {}: {}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>",
        escape(w.by),
        escape(&by.replace('_', " ")),
        escape(&q.text),
        escape(w.group),
        escape(w.answered)
    );
    for h in &heads {
        let _ = write!(b, "<th scope=\"col\">{}</th>", escape(h));
    }
    b.push_str("</tr></thead><tbody>");
    for g in breakdown {
        let mut cells: Vec<String> = Vec::new();
        if g.answered.is_some() {
            if let Some(options) = &g.options {
                cells.extend(options.iter().map(|o| say.count_share(o.count, o.share)));
            } else if q.kind == QuestionType::Scale
                && let Some(d) = &g.distribution
            {
                cells.extend(d.iter().map(|d| say.count(d.count)));
            } else if let Some(ranking) = &g.ranking {
                cells.extend(ranking.iter().map(|r| say.count(r.first)));
            } else if let Some(statements) = &g.statements {
                cells.extend(statements.iter().map(|s| say.number(s.mean)));
            }
            if numeric {
                cells.extend([say.number(g.mean), say.number(g.median)]);
            }
        }
        cells.resize(heads.len(), say.w.not_shown.to_owned());
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{}</td>",
            escape(&label(&g.group)),
            escape(&say.count(g.answered))
        );
        for c in &cells {
            let _ = write!(b, "<td>{}</td>", escape(c));
        }
        b.push_str("</tr>");
    }
    b.push_str("</tbody></table>");
}

/// The note on how the figures are protected (public) or that they are exact (staff).
pub fn analysis_note(a: &Analysis, w: &Words) -> &'static str {
    if a.public { w.public_note } else { w.staff_note }
}

/// The analysis as a page of its own: a heading with the activity's title, the respondents and
/// how the figures are protected, then [`analysis_sections`] (with the `questionnaire`'s scale
/// labels if given). Every value escaped.
pub fn analysis_html(title: &str, a: &Analysis, questionnaire: Option<&Questionnaire>) -> String {
    let w = &ENGLISH;
    let heading = format!("{}: {title}", w.results);
    let mut body = format!(
        "<h1>{}</h1><p>{} {}. {}</p>",
        escape(&heading),
        a.respondents,
        escape(w.respondents),
        escape(analysis_note(a, w))
    );
    body.push_str(&analysis_sections(a, questionnaire, 2, w));
    document(&heading, &body)
}

#[cfg(test)]
mod tests {
    use super::{ENGLISH, analysis_csv, analysis_html, analysis_rows, analysis_sections};
    use consult_core::{Analysis, Questionnaire, QuestionnaireInput};
    use serde_json::json;

    /// A public analysis: one choice with a shown and a hidden option, a scale with a hidden
    /// point (so no mean), and a question too few answered.
    fn public() -> Analysis {
        serde_json::from_value(json!({ "respondents": 40, "public": true, "questions": [
            { "key": "visit", "type": "single_choice", "text": "<i>Visit</i>?", "answered": 38, "options": [
                { "key": "yes", "label": "Yes & more", "count": 33, "share": 0.8684, "interval": [0.7273, 0.9426] },
                { "key": "no", "label": "=cmd()", "count": null, "share": null, "interval": null } ] },
            { "key": "satisfaction", "type": "scale", "text": "Satisfied?", "answered": 40,
              "distribution": [ { "value": 1.0, "count": null }, { "value": 2.0, "count": 35 } ] },
            { "key": "last", "type": "date", "text": "Last visit?", "answered": null }
        ] }))
        .unwrap()
    }

    fn questionnaire() -> Questionnaire {
        let input: QuestionnaireInput = serde_json::from_value(json!({ "sections": [ { "title": "S", "questions": [
            { "key": "visit", "type": "single_choice", "text": "<i>Visit</i>?",
              "options": [ { "key": "yes", "label": "Yes & more" }, { "key": "no", "label": "=cmd()" } ] },
            { "key": "satisfaction", "type": "scale", "text": "Satisfied?",
              "scale": { "min": 1, "max": 2, "min_label": "Not at all", "max_label": "Very" } },
            { "key": "last", "type": "date", "text": "Last visit?" } ] } ] }))
        .unwrap();
        Questionnaire::parse(input).unwrap()
    }

    #[test]
    fn hidden_counts_are_empty_and_marked_never_zero() {
        let rows = analysis_rows(&public());
        let find = |part: &str, item: &str, value: &str| {
            rows.iter()
                .find(|r| r[4] == part && r[5] == item && r[7] == value)
                .unwrap_or_else(|| panic!("{part} {item} {value}: {rows:?}"))
        };
        let yes = find("option", "yes", "");
        assert_eq!(
            (yes[8].as_str(), yes[9].as_str(), yes[14].as_str()),
            ("33", "0.8684", "false")
        );
        let no = find("option", "no", "");
        assert_eq!((no[8].as_str(), no[9].as_str(), no[14].as_str()), ("", "", "true"));
        assert_eq!(find("value", "", "1")[8], "");
        assert_eq!(find("value", "", "2")[8], "35");
        let hidden_question = rows.iter().find(|r| r[0] == "last").unwrap();
        assert_eq!(
            (hidden_question[3].as_str(), hidden_question[14].as_str()),
            ("", "true")
        );
        // A label a spreadsheet would run is neutralised in the CSV.
        let csv = String::from_utf8(analysis_csv(&public()).unwrap()).unwrap();
        assert!(csv.contains(",'=cmd(),") && !csv.contains(",=cmd(),"), "{csv}");
    }

    #[test]
    fn the_page_says_fewer_than_5_and_escapes_every_value() {
        let q = questionnaire();
        let html = analysis_html("Parks <b>", &public(), Some(&q));
        assert!(html.contains("<title>Results: Parks &lt;b&gt;</title>"), "{html}");
        assert!(
            html.contains("&lt;i&gt;Visit&lt;/i&gt;?") && !html.contains("<i>"),
            "{html}"
        );
        assert!(
            html.contains("<th scope=\"row\">=cmd()</th><td>fewer than 5</td><td>not shown</td>"),
            "{html}"
        );
        assert!(
            html.contains("<th scope=\"row\">Yes &amp; more</th><td>33</td><td>86.8%</td><td>72.7% to 94.3%</td>"),
            "{html}"
        );
        assert!(!html.contains("<td>0</td>"), "{html}");
        // The scale's end points carry their labels; its mean is withheld.
        assert!(
            html.contains("<th scope=\"row\">1 (Not at all)</th><td>fewer than 5</td>"),
            "{html}"
        );
        assert!(html.contains("Mean: not shown."), "{html}");
        // Too few answered: said, with no chart or table.
        let last = html.split("id=\"q-last\"").nth(1).unwrap();
        assert!(
            last.contains(ENGLISH.too_few) && !last.contains("<svg") && !last.contains("<table"),
            "{last}"
        );
        assert!(
            html.contains("random noise"),
            "the page says how the figures are protected"
        );
        // Two charts, each named and described.
        assert_eq!(
            html.matches("role=\"img\" aria-labelledby=\"chart-").count(),
            2,
            "{html}"
        );
        // Without the questionnaire, points are plain numbers.
        let plain = analysis_sections(&public(), None, 2, &ENGLISH);
        assert!(plain.contains("<th scope=\"row\">1</th>"), "{plain}");
    }
}
