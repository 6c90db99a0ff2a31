//! The binary's usage contract (and, being an integration test, it makes cargo build the
//! `consult` binary that the end-to-end tests in `tests/` run).
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn help_lists_the_commands_and_bad_usage_exits_2() {
    let help = Command::new(env!("CARGO_BIN_EXE_consult"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    for cmd in ["serve", "migrate", "token", "org", "consultation", "export", "import"] {
        assert!(text.contains(cmd), "{cmd} missing from --help");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_consult"))
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
