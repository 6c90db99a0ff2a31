//! The authorisation matrix, generated from the published OpenAPI document: every write that
//! needs credentials, tried on one organisation's records by nobody, by another organisation's
//! officer and by the owner's officer where only coordinators may write. None succeeds, and none
//! leaves a trace in the audit log (every write is audited in its own transaction). Another
//! organisation's officer is told "not found" about an activity they may not read (a draft), and
//! "forbidden" about one they may read but not change (a published one).

use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Posts that store nothing: any officer may ask.
const QUERIES: &[&str] = &["POST /api/v1/checks/overlap"];

/// Writes only a coordinator or administrator may make, whoever owns what they touch.
const COORDINATORS_ONLY: &[&str] = &[
    "POST /api/v1/areas",
    "POST /api/v1/baselines",
    "POST /api/v1/frameworks",
    "POST /api/v1/organisations",
    "POST /api/v1/tokens",
    "POST /api/v1/evaluations/sample",
    "PUT /api/v1/organisations/{slug}/checklist",
];

on_both!(authorisation_matrix);
async fn authorisation_matrix(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let activity = app
        .register_activity(&tamworth, consultation("tamworth", "Parks strategy", -2, 10), true)
        .await;
    let theirs = app
        .register_activity(&police, consultation("police", "Safer streets", -2, 10), true)
        .await;
    let draft = app
        .register_activity(&tamworth, consultation("tamworth", "Allotments review", -2, 10), false)
        .await;
    let (s, b) = app
        .post(
            "/api/v1/organisations/tamworth/services",
            Some(&tamworth),
            json!({ "name": "Parks" }),
        )
        .await;
    assert!(s.is_success(), "{b}");
    let (s, document) = app
        .post(
            &format!("/api/v1/consultations/{activity}/documents"),
            Some(&tamworth),
            json!({ "title": "Findings", "url": "https://example.org/findings.pdf" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{document}");
    let (s, remark) = app
        .post(
            &format!("/api/v1/consultations/{activity}/remarks"),
            None,
            json!({ "kind": "comment", "body": "Clear and well run" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{remark}");

    let (_, doc) = app.get("/openapi.json", None).await;
    let fill = |path: &str| {
        let id = if path.starts_with("/api/v1/documents/") {
            document["id"].as_str().unwrap().to_owned()
        } else if path.starts_with("/api/v1/remarks/") {
            remark["id"].as_str().unwrap().to_owned()
        } else {
            activity.clone()
        };
        path.replace("{id}", &id)
            .replace("{other}", &theirs)
            .replace("{slug}", "tamworth")
            .replace("{year}", "2026")
            .replace("{service}", "Parks")
            .replace("{response_id}", "0190a000-0000-7000-8000-000000000001")
            .replace("{key}", "parking")
    };
    let audit_before = app.store.audit_log(None, 100_000).await.unwrap().len();
    let mut tried = 0;
    let mut not_found_drafts = 0;
    let mut failures = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let secured = op.get("security").is_some_and(|s| !s.as_array().unwrap().is_empty());
            if !secured || method == "get" {
                continue;
            }
            let name = format!("{} {path}", method.to_uppercase());
            if QUERIES.contains(&name.as_str()) {
                continue;
            }
            // What is written names its owner in the body here: tamworth's.
            let body = if name == "POST /api/v1/consultations" {
                json!({ "organisation": "tamworth" })
            } else {
                json!({})
            };
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let url = fill(path);
            let mut attempts: Vec<(&str, Option<&str>, &[StatusCode])> = vec![
                ("nobody", None, &[StatusCode::UNAUTHORIZED]),
                (
                    "another organisation's officer",
                    Some(&police),
                    &[StatusCode::FORBIDDEN, StatusCode::NOT_FOUND],
                ),
            ];
            if COORDINATORS_ONLY.contains(&name.as_str()) {
                attempts.push(("the owner's officer", Some(&tamworth), &[StatusCode::FORBIDDEN]));
            }
            // One activity's own writes: on its published version another organisation's
            // officer is forbidden; its draft they may not even read, so it is not found.
            // Whatever they are told about the draft, they are told about an activity that does
            // not exist (a refusal by role alone says nothing of the activity).
            if path.starts_with("/api/v1/consultations/{id}") {
                attempts[1].2 = &[StatusCode::FORBIDDEN];
                let unknown = "0190a000-0000-7000-8000-000000000000";
                let on = |id: &str| path.replace("{id}", id).replace("{other}", &theirs);
                tried += 1;
                let res = app.send(method.clone(), &on(&draft), Some(&police), Some(&body)).await;
                let (status, detail) = (res.status(), res.json::<Value>().await.unwrap_or(Value::Null));
                let absent = app.send(method.clone(), &on(unknown), Some(&police), Some(&body)).await;
                let as_absent = absent.status();
                let by_role = detail["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("only a coordinator"));
                if status == StatusCode::NOT_FOUND {
                    not_found_drafts += 1;
                } else if !(status == as_absent && by_role) {
                    failures.push(format!(
                        "{name} on a draft by another organisation's officer: {status} {detail} (unknown: {as_absent})"
                    ));
                }
            }
            for (who, token, allowed) in attempts {
                tried += 1;
                let res = app.send(method.clone(), &url, token, Some(&body)).await;
                let status = res.status();
                if !allowed.contains(&status) {
                    let body: Value = res.json().await.unwrap_or(Value::Null);
                    failures.push(format!("{name} by {who}: {status} {body}"));
                }
            }
        }
    }
    assert!(tried >= 60, "only {tried} attempts: is the document complete?");
    assert!(
        not_found_drafts >= 8,
        "only {not_found_drafts} writes to a draft were not found"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        app.store.audit_log(None, 100_000).await.unwrap().len(),
        audit_before,
        "a refused write left an audit entry"
    );
}
