//! The public JSON bodies (responses, resident registrations, remarks, feedback): read as the
//! API parses them and validated by the core, never a panic. The first byte picks the body.
#![no_main]

use consult_core::{
    Actor, ConsultationId, Feedback, FeedbackInput, MonitoringScheme, Remark, RemarkInput, Resident, ResidentInput,
    Response, ResponseInput, Role,
};
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let (_, areas) = common::register();
    let now = chrono::DateTime::UNIX_EPOCH;
    let id = uuid::Uuid::nil();
    match pick % 4 {
        0 => {
            if let Ok(input) = serde_json::from_slice::<ResponseInput>(body) {
                let _ = Response::parse(
                    id,
                    ConsultationId(id),
                    input,
                    &MonitoringScheme::census2021().expect("the built-in scheme"),
                    None,
                    now,
                );
            }
        }
        1 => {
            if let Ok(input) = serde_json::from_slice::<ResidentInput>(body) {
                let _ = Resident::parse(id, input, &areas, now);
            }
        }
        2 => {
            if let Ok(input) = serde_json::from_slice::<RemarkInput>(body) {
                let _ = Remark::parse(id, ConsultationId(id), input, now);
            }
        }
        _ => {
            if let Ok(input) = serde_json::from_slice::<FeedbackInput>(body) {
                let actor = Actor {
                    name: "fuzz".into(),
                    role: Role::Officer,
                    organisation: None,
                    staff: None,
                };
                let _ = Feedback::parse(&input, None, &actor, now);
            }
        }
    }
});
