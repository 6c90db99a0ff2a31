//! A Nomis Census 2021 bulk file (`consult baseline import`): any text gives baselines or a
//! message, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((header, rows)) = common::split(data) else {
        return;
    };
    let _ = consult_core::nomis_baselines(&header, &rows, &["E07000199".to_owned()]);
    let _ = consult_core::nomis_baselines(&header, &rows, &[]);
});
