//! Small text-field parsers shared by the input types, each recording a field error on failure.

use crate::error::ValidationErrors;

/// A required single-line text field: trimmed, non-empty, at most `max` characters, no control
/// characters.
pub(crate) fn required_line(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    match value.map(str::trim) {
        None | Some("") => {
            errors.push(field, "is required");
            None
        }
        Some(v) => line(errors, field, v, max),
    }
}

/// An optional single-line text field: blank is treated as absent.
pub(crate) fn optional_line(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    match value.map(str::trim) {
        None | Some("") => None,
        Some(v) => line(errors, field, v, max),
    }
}

fn line(errors: &mut ValidationErrors, field: &str, v: &str, max: usize) -> Option<String> {
    if v.chars().count() > max {
        errors.push(field, format!("must be at most {max} characters"));
        None
    } else if v.chars().any(char::is_control) {
        errors.push(field, "must be a single line without control characters");
        None
    } else {
        Some(v.to_owned())
    }
}

/// An optional multi-line text field: trimmed, at most `max` characters; tabs and newlines allowed.
pub(crate) fn optional_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    match value.map(str::trim) {
        None | Some("") => None,
        Some(v) if v.chars().count() > max => {
            errors.push(field, format!("must be at most {max} characters"));
            None
        }
        Some(v) if v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) => {
            errors.push(field, "must not contain control characters");
            None
        }
        Some(v) => Some(v.to_owned()),
    }
}

/// A list of short single-line items: each trimmed, non-empty, at most `max_len`; duplicates
/// dropped; at most `max_items`.
pub(crate) fn line_list(
    errors: &mut ValidationErrors,
    field: &str,
    values: &[String],
    max_items: usize,
    max_len: usize,
) -> Vec<String> {
    if values.len() > max_items {
        errors.push(field, format!("must have at most {max_items} items"));
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let f = format!("{field}[{i}]");
        if let Some(v) = required_line(errors, &f, Some(v), max_len) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}
