//! Geographic areas by ONS GSS code, with their hierarchy (a ward inside its district, a district
//! inside its county), so an activity across a county overlaps one in a district within it.

use crate::error::ValidationErrors;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// An ONS Government Statistical Service code: a nation letter (E, W, S, N or K) and eight digits,
/// e.g. `E07000199` (Tamworth).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "E07000199"))]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

impl AreaCode {
    /// Parses a GSS code. Lower-case letters are accepted and normalised.
    ///
    /// ```
    /// use consult_core::AreaCode;
    /// assert_eq!(AreaCode::parse("e07000199").unwrap().as_str(), "E07000199");
    /// assert!(AreaCode::parse("Tamworth").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, String> {
        let given = s.trim();
        let s = given.to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() == 9 && matches!(b[0], b'E' | b'W' | b'S' | b'N' | b'K') && b[1..].iter().all(u8::is_ascii_digit) {
            Ok(Self(s))
        } else {
            let s = given;
            Err(format!(
                "`{s}` is not an ONS GSS area code (a letter E, W, S, N or K and eight digits, e.g. E07000199)"
            ))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AreaCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<AreaCode> for String {
    fn from(c: AreaCode) -> String {
        c.0
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A named area and the area that contains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Area {
    /// GSS code.
    pub code: AreaCode,
    /// Name, e.g. "Tamworth".
    pub name: String,
    /// The containing area, if any.
    pub parent: Option<AreaCode>,
}

/// Raw input for a new area, before validation.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AreaInput {
    /// GSS code.
    pub code: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Parent GSS code.
    pub parent: Option<String>,
}

impl Area {
    /// Validates a new area against the known hierarchy: a well-formed code not already present,
    /// a name, and a parent that exists.
    pub fn parse(input: AreaInput, known: &AreaHierarchy) -> Result<Area, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let code = match input.code.as_deref().map(AreaCode::parse) {
            Some(Ok(c)) if known.contains(&c) => {
                errors.push("code", format!("area {c} already exists"));
                None
            }
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                errors.push("code", e);
                None
            }
            None => {
                errors.push("code", "is required");
                None
            }
        };
        let name = crate::text::required_line(&mut errors, "name", input.name.as_deref(), 200);
        let parent = match input
            .parent
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(AreaCode::parse)
        {
            Some(Ok(p)) if !known.contains(&p) => {
                errors.push("parent", format!("unknown area {p}; add the parent area first"));
                None
            }
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                errors.push("parent", e);
                None
            }
            None => None,
        };
        match (code, name) {
            (Some(code), Some(name)) if errors.is_empty() => Ok(Area { code, name, parent }),
            _ => Err(errors),
        }
    }
}

/// The area hierarchy, for containment questions.
#[derive(Debug, Clone, Default)]
pub struct AreaHierarchy {
    parent: HashMap<AreaCode, Option<AreaCode>>,
}

impl AreaHierarchy {
    /// Builds the hierarchy from every known area.
    pub fn new(areas: impl IntoIterator<Item = Area>) -> Self {
        Self {
            parent: areas.into_iter().map(|a| (a.code, a.parent)).collect(),
        }
    }

    /// True when the code is a known area.
    pub fn contains(&self, code: &AreaCode) -> bool {
        self.parent.contains_key(code)
    }

    /// The areas containing `code`, nearest first. Stops at a cycle rather than looping.
    pub fn ancestors(&self, code: &AreaCode) -> Vec<AreaCode> {
        let mut out: Vec<AreaCode> = Vec::new();
        let mut cur = self.parent.get(code).cloned().flatten();
        while let Some(p) = cur {
            if &p == code || out.contains(&p) {
                break;
            }
            cur = self.parent.get(&p).cloned().flatten();
            out.push(p);
        }
        out
    }

    /// True when `outer` contains `inner` (directly or through intermediate areas).
    pub fn contains_area(&self, outer: &AreaCode, inner: &AreaCode) -> bool {
        self.ancestors(inner).contains(outer)
    }

    /// The area itself, every area containing it and every area inside it: the areas whose
    /// activities concern people in `code`.
    ///
    /// ```
    /// use consult_core::{Area, AreaCode, AreaHierarchy};
    /// let c = |s| AreaCode::parse(s).unwrap();
    /// let h = AreaHierarchy::new([
    ///     Area { code: c("E10000028"), name: "Staffordshire".into(), parent: None },
    ///     Area { code: c("E07000199"), name: "Tamworth".into(), parent: Some(c("E10000028")) },
    /// ]);
    /// assert!(h.related(&c("E07000199")).contains(&c("E10000028")));
    /// assert!(h.overlap(&c("E10000028"), &c("E07000199")));
    /// ```
    pub fn related(&self, code: &AreaCode) -> BTreeSet<AreaCode> {
        let mut out: BTreeSet<AreaCode> = self.ancestors(code).into_iter().collect();
        out.insert(code.clone());
        for candidate in self.parent.keys() {
            if self.contains_area(code, candidate) {
                out.insert(candidate.clone());
            }
        }
        out
    }

    /// True when two areas are the same or one contains the other.
    pub fn overlap(&self, a: &AreaCode, b: &AreaCode) -> bool {
        a == b || self.contains_area(a, b) || self.contains_area(b, a)
    }
}
