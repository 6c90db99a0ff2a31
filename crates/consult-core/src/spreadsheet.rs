//! CSV that people open in spreadsheets, both ways: cells written so a spreadsheet never runs
//! them as formulas, reversibly, and CSV text checked for a quoted field that never closes.

use std::borrow::Cow;

/// What a cell a spreadsheet could run as a formula starts with, and the apostrophe that
/// neutralises one (so a value already starting with it is escaped too, and [`restore`] is
/// exact).
const ESCAPED: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// The cell as written to CSV: a value starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return gets a leading apostrophe, so a spreadsheet shows it as text instead of running it;
/// so does a value already starting with an apostrophe, so that [`restore`] gives back every
/// value exactly. Numbers (`-5`, `+1.5`) are left as they are: a spreadsheet reads them as
/// numbers, never as formulas.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(ESCAPED) && (cell.starts_with('\'') || cell.parse::<f64>().is_err()) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The value of a cell [`neutralise`] wrote: one leading apostrophe dropped when what follows it
/// is one neutralise escapes. A value typed with a leading apostrophe in a spreadsheet (`'abc`)
/// is kept as it is.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(ESCAPED) => rest,
        _ => cell,
    }
}

/// The line (from 1) on which a quoted field opens that never closes, if any: a CSV reader
/// would otherwise read the rest of the file as that one field. Quoting follows RFC 4180 as
/// the `csv` crate reads it: a field is quoted when it starts with `"`, and `""` inside it is
/// a quote.
pub fn unclosed_quote(text: &[u8]) -> Option<usize> {
    let (mut line, mut opened_on) = (1, 0);
    let (mut field_start, mut quoted) = (true, false);
    let mut bytes = text.iter().peekable();
    while let Some(&b) = bytes.next() {
        if quoted {
            match b {
                b'"' if bytes.peek() == Some(&&b'"') => {
                    bytes.next();
                }
                b'"' => quoted = false,
                b'\n' => line += 1,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' if field_start => {
                quoted = true;
                opened_on = line;
                field_start = false;
            }
            b',' | b'\r' => field_start = true,
            b'\n' => {
                line += 1;
                field_start = true;
            }
            _ => field_start = false,
        }
    }
    quoted.then_some(opened_on)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_every_value_restored() {
        for (value, written) in [
            ("=1+1", "'=1+1"),
            ("+44 1827", "'+44 1827"),
            ("-x", "'-x"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'quoted", "''quoted"),
            ("''", "'''"),
            ("'=x", "''=x"),
            ("-5", "-5"),
            ("plain", "plain"),
            ("", ""),
        ] {
            assert_eq!(neutralise(value), written, "{value:?}");
            assert_eq!(restore(&neutralise(value)), value, "{value:?}");
        }
        assert_eq!(restore("'typed"), "'typed");
    }

    #[test]
    fn an_unclosed_quote_is_found_by_its_line() {
        assert_eq!(unclosed_quote(b"a,b\n\"x\",\"y\nz\"\n1,\"2\"\"3\"\n"), None);
        assert_eq!(unclosed_quote(b"a,b\n1,2\n\"oops,3\n4,5\n6,7\n"), Some(3));
        assert_eq!(unclosed_quote(b"a,b\r\n1,\"x\"\"\r\n"), Some(2));
        assert_eq!(unclosed_quote(b"a,b\n5\" tall,2\n"), None);
    }
}
