//! The register's CSV import (`consult import register`): reading never panics, and every row
//! read is checked by the same rule as the API.
#![no_main]

use consult_core::{ConsultationPlan, RegisterContext};
use libfuzzer_sys::fuzz_target;

mod common;
#[path = "../../crates/consult-cli/src/csv_register.rs"]
#[allow(dead_code)]
mod csv_register;

fuzz_target!(|data: &[u8]| {
    let (organisations, areas) = common::register();
    if let Ok(rows) = csv_register::read(data) {
        for row in rows {
            let _ = ConsultationPlan::parse(
                row.input,
                RegisterContext {
                    organisations: &organisations,
                    areas: &areas,
                },
            );
        }
    }
});
