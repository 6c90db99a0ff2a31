//! A plan file for `consult check --file` (TOML or JSON) and the body of `POST /consultations`:
//! read, checked by the register's rule, and assessed against the built-in frameworks.
#![no_main]

use consult_core::{ConsultationInput, ConsultationPlan, RegisterContext};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let (organisations, areas) = common::register();
    let Ok(text) = std::str::from_utf8(data) else { return };
    let inputs = [
        toml::from_str::<ConsultationInput>(text).ok(),
        serde_json::from_slice::<ConsultationInput>(data).ok(),
    ];
    for input in inputs.into_iter().flatten() {
        let _ = ConsultationPlan::parse(
            input,
            RegisterContext {
                organisations: &organisations,
                areas: &areas,
            },
        );
    }
});
