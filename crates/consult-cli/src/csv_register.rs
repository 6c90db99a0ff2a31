//! The register as CSV: one row per activity, the columns of the consultation body. Export
//! neutralises spreadsheet formulas; import reverses that and checks every row before storing any.

use consult_core::{AudienceInput, Consultation, ConsultationInput, CostInput, Organisation};
use std::io::{Read, Write};

/// The CSV columns, in order.
pub const COLUMNS: &[&str] = &[
    "id",
    "organisation",
    "service",
    "title",
    "summary",
    "purpose",
    "decision",
    "decision_date",
    "can_change",
    "cannot_change",
    "level",
    "methods",
    "groups",
    "areas",
    "equality_groups",
    "topics",
    "opens_on",
    "closes_on",
    "feedback_due_on",
    "late_responses_days",
    "legal_basis",
    "lead_officer",
    "accessible_formats",
    "cost_gbp",
    "results_sharing",
    "data_protection_note",
    "data_protection_allows",
    "status",
    "created_at",
    "updated_at",
];

/// Slug lists (methods, groups, areas) are joined with `;`; text lists with new lines.
const SLUG_SEP: &str = ";";
const TEXT_SEP: &str = "\n";

/// A cell a spreadsheet would run as a formula, or one starting with an apostrophe, gets a
/// leading apostrophe ([`consult_core::spreadsheet::neutralise`]); import reverses it exactly.
pub fn neutralise(cell: &str) -> String {
    consult_core::spreadsheet::neutralise(cell).into_owned()
}

use consult_core::spreadsheet::restore;

/// Writes the register as CSV.
pub fn write(
    out: impl Write,
    items: &[Consultation],
    orgs: &[Organisation],
    today: chrono::NaiveDate,
) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for c in items {
        let i = c.plan.to_input();
        let org = orgs
            .iter()
            .find(|o| o.id == c.organisation_id)
            .map_or_else(|| c.plan.organisation().to_string(), |o| o.slug.to_string());
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        let row = [
            c.id.to_string(),
            org,
            opt(&i.service),
            opt(&i.title),
            opt(&i.summary),
            opt(&i.purpose),
            opt(&i.decision),
            opt(&i.decision_date),
            i.can_change.join(TEXT_SEP),
            i.cannot_change.join(TEXT_SEP),
            opt(&i.level),
            i.methods.join(SLUG_SEP),
            i.audience.groups.join(SLUG_SEP),
            i.audience.areas.join(SLUG_SEP),
            i.audience.equality_groups.join(TEXT_SEP),
            i.topics.join(TEXT_SEP),
            opt(&i.opens_on),
            opt(&i.closes_on),
            opt(&i.feedback_due_on),
            i.late_responses_days.map(|d| d.to_string()).unwrap_or_default(),
            opt(&i.legal_basis),
            opt(&i.lead_officer),
            opt(&i.accessible_formats),
            i.cost
                .and_then(|c| c.amount)
                .map(|a| format!("{a:.2}"))
                .unwrap_or_default(),
            opt(&i.results_sharing),
            i.data_protection
                .as_ref()
                .and_then(|d| d.note.clone())
                .unwrap_or_default(),
            i.data_protection
                .as_ref()
                .and_then(|d| d.allows.clone())
                .unwrap_or_default(),
            c.status_on(today).to_string(),
            c.created_at.to_rfc3339(),
            c.updated_at.to_rfc3339(),
        ];
        w.write_record(row.iter().map(|cell| neutralise(cell)))?;
    }
    w.flush()?;
    Ok(())
}

/// One row read back: its line, optional id and status, and the input to validate.
#[derive(Debug)]
pub struct Row {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// The `id` column, if present and non-empty.
    pub id: Option<String>,
    /// The `status` column, if present and non-empty.
    pub status: Option<String>,
    /// The consultation fields.
    pub input: ConsultationInput,
}

/// Reads every row. Columns are matched by header name, in any order; unknown headers are an
/// error, so a misspelt column is not silently dropped.
pub fn read(input: impl Read) -> Result<Vec<Row>, String> {
    let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = r
        .headers()
        .map_err(|e| format!("cannot read the header row: {e}"))?
        .clone();
    for h in &headers {
        if !COLUMNS.contains(&h) {
            return Err(format!(
                "unknown column `{h}`; expected columns: {}",
                COLUMNS.join(", ")
            ));
        }
    }
    for required in ["organisation", "title", "level", "opens_on", "closes_on"] {
        if !headers.iter().any(|h| h == required) {
            return Err(format!("missing column `{required}`"));
        }
    }
    let mut rows = Vec::new();
    for record in r.records() {
        let record = record.map_err(|e| format!("{e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |name: &str| -> Option<String> {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .map(|v| restore(v).trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let list = |name: &str, sep: &str| -> Vec<String> {
            get(name)
                .map(|v| {
                    v.split(sep)
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let cost = match get("cost_gbp") {
            None => None,
            Some(v) => Some(CostInput {
                amount: Some(
                    v.replace([',', '£'], "")
                        .parse::<f64>()
                        .map_err(|_| format!("line {line}: cost_gbp `{v}` is not a number of pounds"))?,
                ),
                currency: Some("GBP".into()),
            }),
        };
        let late_responses_days = match get("late_responses_days") {
            None => None,
            Some(v) => Some(
                v.parse::<u32>()
                    .map_err(|_| format!("line {line}: late_responses_days `{v}` is not a whole number of days"))?,
            ),
        };
        rows.push(Row {
            line,
            id: get("id"),
            status: get("status"),
            input: ConsultationInput {
                organisation: get("organisation"),
                service: get("service"),
                title: get("title"),
                summary: get("summary"),
                purpose: get("purpose"),
                decision: get("decision"),
                decision_date: get("decision_date"),
                can_change: list("can_change", TEXT_SEP),
                cannot_change: list("cannot_change", TEXT_SEP),
                level: get("level"),
                methods: list("methods", SLUG_SEP),
                audience: AudienceInput {
                    groups: list("groups", SLUG_SEP),
                    areas: list("areas", SLUG_SEP),
                    equality_groups: list("equality_groups", TEXT_SEP),
                },
                topics: list("topics", TEXT_SEP),
                opens_on: get("opens_on"),
                closes_on: get("closes_on"),
                feedback_due_on: get("feedback_due_on"),
                late_responses_days,
                legal_basis: get("legal_basis"),
                lead_officer: get("lead_officer"),
                accessible_formats: get("accessible_formats"),
                cost,
                results_sharing: get("results_sharing"),
                data_protection: match (get("data_protection_note"), get("data_protection_allows")) {
                    (None, None) => None,
                    (note, allows) => Some(consult_core::DataProtectionInput { note, allows }),
                },
            },
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_restored() {
        for cell in ["=HYPERLINK(\"x\")", "+1+1", "-x", "@SUM(A1)", "'already quoted"] {
            let n = neutralise(cell);
            assert!(n.starts_with('\''));
            assert_eq!(restore(&n), cell);
        }
        assert_eq!(neutralise("Budget"), "Budget");
        assert_eq!(restore("'quoted"), "'quoted");
    }

    #[test]
    fn unknown_columns_are_refused() {
        let err = read("organisation,title,level,opens_on,closes_on,titel\n".as_bytes()).unwrap_err();
        assert!(err.contains("titel"));
        let err = read("organisation,title,level,opens_on\n".as_bytes()).unwrap_err();
        assert!(err.contains("closes_on"));
    }
}
