//! The one rule for the characters of text input, and the small text-field parsers shared by the
//! input types, each recording a field error on failure.
//!
//! Every free-text value that consult reads (a JSON body's strings, form fields, query
//! parameters, CSV cells, command-line text) is checked against [`text_problem`], or the
//! stricter [`line_problem`] for a single-line field:
//!
//! - no control characters (Unicode `Cc`: NUL, escape, C1 controls, ...) except tab and newline,
//!   and a carriage return only as part of a `\r\n` line end; a single line has none at all;
//! - a single line has no bidirectional embedding, override or isolate controls (U+202A..U+202E,
//!   U+2066..U+2069): a name or title is shown inside other text (lists, tables, CSV) where an
//!   unclosed override would reverse what follows it. Multi-line text keeps them, since
//!   right-to-left writing may need them and a paragraph is shown on its own;
//! - a required single-line field needs at least one visible character: zero-width spaces and
//!   joiners, byte order marks, bidi marks and controls and other invisible characters do not
//!   count ([`is_invisible`]).

use crate::error::ValidationErrors;

/// Why `value` is not acceptable multi-line text, or `None` when it is: control characters other
/// than tab, newline and a carriage return before a newline are refused.
pub fn text_problem(value: &str) -> Option<&'static str> {
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' | '\n' => {}
            '\r' if chars.peek() == Some(&'\n') => {}
            c if c.is_control() => return Some("must not contain control characters"),
            _ => {}
        }
    }
    None
}

/// Why `value` is not an acceptable single line, or `None` when it is: no control characters at
/// all (tab and newline included) and no bidirectional embedding, override or isolate controls.
pub fn line_problem(value: &str) -> Option<&'static str> {
    if value.chars().any(char::is_control) {
        Some("must be a single line without control characters")
    } else if value.chars().any(is_bidi_control) {
        Some("must not contain bidirectional override or isolate characters")
    } else {
        None
    }
}

/// Whether `c` is a bidirectional embedding, override or isolate control.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` shows nothing by itself: whitespace, zero-width spaces and joiners, the byte
/// order mark, bidirectional marks and controls, soft hyphens, variation selectors, tags and the
/// like. A required field made only of these is blank.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{2065}'
                | '\u{206A}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E007F}'
                | '\u{E0100}'..='\u{E01EF}'
        )
}

/// Whether `value` has at least one visible character.
pub fn has_visible(value: &str) -> bool {
    !value.chars().all(is_invisible)
}

/// A required single-line text field: trimmed, non-empty, at most `max` characters, no control
/// characters.
pub fn required_line(errors: &mut ValidationErrors, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    match value.map(str::trim) {
        None | Some("") => {
            errors.push(field, "is required");
            None
        }
        Some(v) if !has_visible(v) => {
            errors.push(field, "is required (it has no visible characters)");
            None
        }
        Some(v) => line(errors, field, v, max),
    }
}

/// An optional single-line text field: blank is treated as absent.
pub fn optional_line(errors: &mut ValidationErrors, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    match value.map(str::trim) {
        None | Some("") => None,
        Some(v) => line(errors, field, v, max),
    }
}

fn line(errors: &mut ValidationErrors, field: &str, v: &str, max: usize) -> Option<String> {
    if v.chars().count() > max {
        errors.push(field, format!("must be at most {max} characters"));
        None
    } else if let Some(problem) = line_problem(v) {
        errors.push(field, problem);
        None
    } else {
        Some(v.to_owned())
    }
}

/// An optional multi-line text field: trimmed, at most `max` characters; tabs and newlines allowed.
pub fn optional_text(errors: &mut ValidationErrors, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    match value.map(str::trim) {
        None | Some("") => None,
        Some(v) if v.chars().count() > max => {
            errors.push(field, format!("must be at most {max} characters"));
            None
        }
        Some(v) => match text_problem(v) {
            Some(problem) => {
                errors.push(field, problem);
                None
            }
            None => Some(v.to_owned()),
        },
    }
}

/// A list of short single-line items: each trimmed, non-empty, at most `max_len`; duplicates
/// dropped; at most `max_items`.
pub fn line_list(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_line_ends_kept() {
        assert_eq!(text_problem("one\r\ntwo\n\tthree"), None);
        for bad in ["a\0b", "lone\rcr", "esc\u{1b}[31m", "c1\u{85}", "del\u{7f}"] {
            assert!(text_problem(bad).is_some(), "{bad:?}");
            assert!(line_problem(bad).is_some(), "{bad:?}");
        }
        assert!(line_problem("tab\there").is_some());
        assert!(line_problem("new\nline").is_some());
        assert_eq!(line_problem("Budget 2027/28 \u{05D0}\u{200F}"), None);
    }

    #[test]
    fn bidi_overrides_are_refused_in_single_lines_only() {
        let spoof = "invoice\u{202E}fdp.exe";
        assert!(line_problem(spoof).is_some());
        assert_eq!(text_problem(spoof), None);
        assert!(line_problem("a\u{2066}b\u{2069}").is_some());
    }

    #[test]
    fn a_required_line_needs_a_visible_character() {
        let mut e = ValidationErrors::default();
        for (i, blank) in ["\u{200B}\u{200C}\u{200D}", "\u{FEFF}", "\u{2060} \u{00AD}", "\u{E0041}"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                required_line(&mut e, &format!("t{i}"), Some(blank), 200),
                None,
                "{blank:?}"
            );
        }
        assert_eq!(e.errors().len(), 4);
        let mut e = ValidationErrors::default();
        assert_eq!(
            required_line(&mut e, "t", Some("\u{200B}Budget"), 200).as_deref(),
            Some("\u{200B}Budget")
        );
        assert!(e.is_empty());
    }
}
