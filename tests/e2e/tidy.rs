//! Checks on the project itself: consult-core stays pure; the OpenAPI document is reviewed as a
//! snapshot and covers the API.md contract implemented so far.

use consult_tests::{Db, TestApp};
use reqwest::StatusCode;
use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn consult_core_has_no_io_dependencies() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--quiet"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let resolve = meta["resolve"]["nodes"].as_array().unwrap();
    let id_of = |name: &str| {
        packages.iter().find(|p| p["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let name_of = |id: &str| {
        packages.iter().find(|p| p["id"] == id).unwrap()["name"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // Walk consult-core's normal (non-dev) dependencies, transitively.
    let mut seen = BTreeSet::new();
    let mut todo = vec![id_of("consult-core")];
    while let Some(id) = todo.pop() {
        let node = resolve.iter().find(|n| n["id"] == id.as_str()).unwrap();
        for dep in node["deps"].as_array().unwrap() {
            let normal = dep["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null());
            let dep_id = dep["pkg"].as_str().unwrap().to_owned();
            if normal && seen.insert(name_of(&dep_id)) {
                todo.push(dep_id);
            }
        }
    }
    // The OpenAPI derives are an opt-in feature, off for embedders.
    let core = packages.iter().find(|p| p["name"] == "consult-core").unwrap();
    for dep in core["dependencies"].as_array().unwrap() {
        if dep["kind"].is_null() && dep["name"] != "utoipa" {
            assert_eq!(dep["optional"], false, "{}", dep["name"]);
        }
        if dep["name"] == "utoipa" {
            assert_eq!(dep["optional"], true, "utoipa must stay optional in consult-core");
        }
    }
    assert!(
        seen.contains("serde"),
        "the walk found consult-core's dependencies: {seen:?}"
    );
    for forbidden in [
        "sqlx",
        "sqlx-core",
        "tokio",
        "axum",
        "hyper",
        "reqwest",
        "rusqlite",
        "mio",
        "tower",
        "async-std",
    ] {
        assert!(
            !seen.contains(forbidden),
            "consult-core depends on {forbidden}: {seen:?}"
        );
    }
}

/// consult-core never reads the clock nor makes ids from it: callers pass `today`, `now` and ids.
/// Tests inside the crate (`#[cfg(test)]` modules, which end each file) may.
#[test]
fn consult_core_never_reads_the_clock() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/consult-core/src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    assert!(files.len() > 10, "the walk found consult-core's sources: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim() == "#[cfg(test)]" {
                break;
            }
            let code = line.split("//").next().unwrap_or("");
            for clock in ["Utc::now", "Local::now", "now_v7", "SystemTime", "Instant::now"] {
                if code.contains(clock) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "consult-core reads the clock outside tests:\n{}",
        found.join("\n")
    );
}

/// Every way in calls the use cases of consult-app, not the store: the CLI uses consult-api only
/// to serve (`serve.rs`), and the API's handlers and hub never reach the store (only
/// `AppState::new`, in `lib.rs`, builds an `App` over one).
#[test]
fn adapters_call_the_application_layer() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sources = |dir: &str| -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut todo = vec![root.join(dir)];
        while let Some(d) = todo.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    todo.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let name = path.strip_prefix(&root).unwrap().display().to_string();
                    out.push((name, std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        assert!(out.len() > 3, "the walk found {dir}: {out:?}");
        out
    };
    let mut found = Vec::new();
    for (name, text) in sources("crates/consult-cli/src") {
        if !name.ends_with("serve.rs") && text.contains("consult_api") {
            found.push(format!("{name} uses consult_api outside `serve`"));
        }
    }
    for (name, text) in sources("crates/consult-api/src") {
        if !name.ends_with("/lib.rs") && text.contains("consult_store") {
            found.push(format!("{name} reaches consult_store instead of consult_app"));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[tokio::test]
async fn openapi_document_snapshot() {
    let app = TestApp::start(Db::Sqlite).await;
    let (s, doc) = app.get("/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    // Every API.md route built so far is documented.
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/openapi.json", "get"),
        ("/api/v1/organisations", "post"),
        ("/api/v1/organisations", "get"),
        ("/api/v1/organisations/{slug}", "get"),
        ("/api/v1/consultations", "post"),
        ("/api/v1/consultations", "get"),
        ("/api/v1/consultations/{id}", "get"),
        ("/api/v1/consultations/{id}", "patch"),
        ("/api/v1/consultations/{id}/transitions", "post"),
        ("/api/v1/forward-plan", "get"),
        ("/api/v1/continuum", "get"),
        ("/api/v1/areas", "post"),
        ("/api/v1/areas", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    assert_eq!(doc, serde_json::to_value(consult_api::openapi()).unwrap());
    insta::assert_json_snapshot!("openapi", doc);
    app.stop().await;
}

#[test]
fn published_openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let published: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        published == serde_json::to_value(consult_api::openapi()).unwrap(),
        "docs/openapi.json is stale: run `cargo xtask openapi`"
    );
}
