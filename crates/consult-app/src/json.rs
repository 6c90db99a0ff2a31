//! Reading JSON that people and scripts send (request bodies, files given to the CLI), with
//! every failure naming the field at fault, the same way for every adapter.

use consult_core::ValidationErrors;
use serde::de::DeserializeOwned;

/// Why a JSON text could not be read as the type asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not JSON at all (syntax, encoding): nothing to name a field in.
    #[error("{0}")]
    Malformed(String),
    /// Well-formed JSON with a value of the wrong type, an unknown field or enum value: the
    /// field is named (`audience.areas[1]`, or `body` for the whole).
    #[error("{0}")]
    Invalid(ValidationErrors),
}

/// Reads `bytes` as JSON of type `T`. Every string in it, and every key, must pass the text
/// rule of consult-core ([`consult_core::text_problem`]: no NUL or other control characters
/// but tab, newline and `\r\n`), whatever field it is for: a refusal names the field.
pub fn read<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| JsonError::Malformed(format!("the body is not valid UTF-8: {e}")))?;
    if may_hold_control_characters(text) {
        // Control characters can only come as escapes or raw C1 characters: parse once more to
        // name the field that holds one (a syntax error is reported by the reading below).
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            check_text(&value).map_err(JsonError::Invalid)?;
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                JsonError::Invalid(ValidationErrors::single(field, clean_serde_message(&inner.to_string())))
            }
            _ => JsonError::Malformed(format!("the body is not valid JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| JsonError::Malformed(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Reads a JSON value already parsed as `T`, naming the field at fault as [`read`] does.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ValidationErrors> {
    check_text(&value)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ValidationErrors::single(field, clean_serde_message(&e.into_inner().to_string()))
    })
}

/// Whether a JSON text could hold a string the text rule refuses: an escape that may be a
/// control character (`\u`, `\r`, `\b`, `\f`) or a raw C1 control.
fn may_hold_control_characters(text: &str) -> bool {
    text.contains("\\u")
        || text.contains("\\r")
        || text.contains("\\b")
        || text.contains("\\f")
        || text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c))
}

/// Checks every string and key of `value` against [`consult_core::text_problem`], naming the
/// field of the first refused (`items[2].theme`, or `body` for a bare string).
pub fn check_text(value: &serde_json::Value) -> Result<(), ValidationErrors> {
    fn walk(value: &serde_json::Value, path: &mut String) -> Result<(), ValidationErrors> {
        let refuse = |path: &str, problem: &str| {
            let field = if path.is_empty() { "body" } else { path };
            ValidationErrors::single(field, problem)
        };
        match value {
            serde_json::Value::String(s) => match consult_core::text_problem(s) {
                Some(problem) => Err(refuse(path, problem)),
                None => Ok(()),
            },
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    if let Some(problem) = consult_core::text_problem(k) {
                        return Err(refuse(
                            path,
                            &format!("names a field with {}", problem.trim_start_matches("must not contain ")),
                        ));
                    }
                    walk(v, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(value, &mut String::new())
}

/// Drops serde's " at line 1 column 5" suffix: the field path already says where.
fn clean_serde_message(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_owned(),
        None => m.to_owned(),
    }
}

/// RFC 7396 JSON merge patch: objects merge recursively, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut serde_json::Value, patch: serde_json::Value) {
    use serde_json::Value;
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(&k);
                    } else {
                        merge_patch(t.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<u32>,
    }

    #[test]
    fn errors_name_the_field() {
        let Err(JsonError::Invalid(e)) = read::<Body>(br#"{"name": "a", "items": [1, "two"]}"#) else {
            panic!("a wrong type is invalid, not malformed");
        };
        assert_eq!(e.errors()[0].field, "items[1]");
        assert!(!e.errors()[0].message.contains("line"), "{e}");
        assert!(matches!(read::<Body>(b"{"), Err(JsonError::Malformed(_))));
        assert!(matches!(
            read::<Body>(br#"{"name": "a", "items": []} x"#),
            Err(JsonError::Malformed(_))
        ));
        assert!(matches!(read::<Body>(&[0xff]), Err(JsonError::Malformed(_))));
    }

    #[test]
    fn control_characters_anywhere_are_refused_naming_the_field() {
        let Err(JsonError::Invalid(e)) = read::<Body>(br#"{"name": "a\u0000b", "items": []}"#) else {
            panic!("NUL is refused");
        };
        assert_eq!(e.errors()[0].field, "name");
        let Err(e) = from_value::<serde_json::Value>(serde_json::json!({"a": [{"b": "x\u{85}"}]})) else {
            panic!("a C1 control is refused");
        };
        assert_eq!(e.errors()[0].field, "a[0].b");
        assert!(read::<Body>(br#"{"name": "line\r\nnext\ttab \u00e9", "items": []}"#).is_ok());
        assert!(matches!(
            read::<Body>(br#"{"name": "lone\rcr", "items": []}"#),
            Err(JsonError::Invalid(_))
        ));
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = serde_json::json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, serde_json::json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, serde_json::json!({"a": "z", "c": {"d": "e"}}));
    }
}
