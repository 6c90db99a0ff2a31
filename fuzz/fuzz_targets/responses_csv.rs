//! A survey tool's export (`consult responses import`): mapped onto the default monitoring
//! scheme, every row is stored or reported, never a panic; the counts always add up.
#![no_main]

use consult_core::{ColumnMapping, ConsultationId, ImportMode, MonitoringScheme, import_responses};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((header, rows)) = common::split(data) else {
        return;
    };
    let scheme = MonitoringScheme::census2021().expect("the built-in scheme");
    let mut mapping = ColumnMapping {
        comments: header.first().cloned(),
        channel: None,
        columns: Default::default(),
        values: Default::default(),
        area: None,
        questions: Default::default(),
    };
    for (column, characteristic) in header
        .iter()
        .skip(1)
        .zip(["sex", "age_band", "ethnic_group", "disability"])
    {
        mapping.columns.insert(characteristic.to_owned(), column.clone());
    }
    let now = chrono::DateTime::UNIX_EPOCH;
    let id = ConsultationId(uuid::Uuid::nil());
    let mut n = 0u128;
    if let Ok((stored, _skipped)) = import_responses(
        &scheme,
        None,
        &consult_core::AreaHierarchy::new([]),
        &mapping,
        &header,
        &rows,
        id,
        "fuzz",
        now,
        ImportMode::GoodRows,
        || {
            n += 1;
            uuid::Uuid::from_u128(n)
        },
    ) {
        assert!(stored.len() <= rows.len());
    }
});
