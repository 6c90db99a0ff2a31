#![allow(dead_code)]
//! What every target shares: a small register to check plans against, and CSV splitting as the
//! CLI does it.

use consult_core::{Area, AreaCode, AreaHierarchy, Organisation, OrganisationId, OrganisationInput};

/// Two organisations and a county with a district.
pub fn register() -> (Vec<Organisation>, AreaHierarchy) {
    let org = |slug: &str, kind: &str| {
        Organisation::parse(
            OrganisationId(uuid::Uuid::from_u128(slug.len() as u128)),
            OrganisationInput {
                slug: Some(slug.into()),
                name: Some(format!("{slug} council")),
                kind: Some(kind.into()),
                services: vec!["Parks".into()],
            },
        )
        .expect("a valid organisation")
    };
    let code = |c: &str| AreaCode::parse(c).expect("a valid code");
    let areas = AreaHierarchy::new([
        Area {
            code: code("E10000028"),
            name: "Staffordshire".into(),
            parent: None,
        },
        Area {
            code: code("E07000199"),
            name: "Tamworth".into(),
            parent: Some(code("E10000028")),
        },
    ]);
    (vec![org("tamworth", "council"), org("police", "partner")], areas)
}

/// The header and rows of a CSV text, as the CLI reads survey and Nomis files; `None` when the
/// CSV itself is unreadable (which the CLI reports as bad input).
pub fn split(data: &[u8]) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(data);
    let header = reader.headers().ok()?.iter().map(str::to_owned).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(record.ok()?.iter().map(str::to_owned).collect());
    }
    Some((header, rows))
}
