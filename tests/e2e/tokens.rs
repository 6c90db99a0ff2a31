//! Staff tokens: issued with an expiry, listed without their secrets, revoked at once on every
//! instance, refused once expired; and the public record naming roles, not token holders.

use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn at(app: &TestApp, base: &str, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = app.client.get(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    consult_tests::into_json(req.send().await.unwrap()).await
}

async fn delete(app: &TestApp, path: &str, token: Option<&str>) -> StatusCode {
    app.send(Method::DELETE, path, token, None).await.status()
}

on_both!(tokens_expire_are_listed_and_revoked);
async fn tokens_expire_are_listed_and_revoked(app: &TestApp) {
    let (_, _) = app.seed().await;
    let issue = |days: Value| json!({ "name": "Tess Temp", "role": "officer", "organisation": "tamworth", "expires_in_days": days });

    // The expiry is checked: 1 to 3650 days, else 422 naming the field.
    for bad in [json!(0), json!(3651), json!(-5), json!("soon"), json!(1.5)] {
        let (s, p) = app.post("/api/v1/tokens", Some(&app.admin), issue(bad.clone())).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {p}");
        assert_eq!(p["errors"][0]["field"], "expires_in_days", "{bad}: {p}");
    }

    // Issued for 30 days; the secret is in this response and nowhere else.
    let (s, t) = app.post("/api/v1/tokens", Some(&app.admin), issue(json!(30))).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let secret = t["token"].as_str().unwrap().to_owned();
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["created_at"], "2026-01-10T09:30:00Z", "{t}");
    assert_eq!(t["expires_at"], "2026-02-09T09:30:00Z", "{t}");
    // Without `expires_in_days`, a year.
    let (_, year) = app
        .post(
            "/api/v1/tokens",
            Some(&app.admin),
            json!({ "name": "Yan Year", "role": "coordinator" }),
        )
        .await;
    assert_eq!(year["expires_at"], "2027-01-10T09:30:00Z", "{year}");

    // It works, and its use is recorded.
    let (s, _) = app.get("/api/v1/consultations", Some(&secret)).await;
    assert_eq!(s, StatusCode::OK);

    // The list: admins only; holder, role, organisation, dates; never a secret or a hash.
    assert_eq!(app.get("/api/v1/tokens", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/tokens", Some(&app.coordinator)).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, list) = app.get("/api/v1/tokens", Some(&app.admin)).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let text = list.to_string();
    assert!(
        !text.contains(&secret) && !text.contains("cst_") && !text.contains("hash"),
        "{list}"
    );
    let items = list["items"].as_array().unwrap();
    let mine = items.iter().find(|i| i["id"] == id.as_str()).unwrap();
    assert_eq!(
        mine,
        &json!({
            "id": id, "name": "Tess Temp", "role": "officer", "organisation": "tamworth",
            "created_at": "2026-01-10T09:30:00Z", "last_used_at": "2026-01-10T09:30:00Z",
            "expires_at": "2026-02-09T09:30:00Z", "revoked_at": null
        })
    );
    // Tokens issued without an expiry (the harness's, like those from before expiry existed)
    // never expire.
    let admin = items.iter().find(|i| i["name"] == "Ada Admin").unwrap();
    assert_eq!(admin["expires_at"], Value::Null, "{admin}");

    // Expired: a 401 saying so, distinct from a token that is not valid at all.
    let expired = app.later(30).await;
    let (s, p) = at(app, &expired, "/api/v1/consultations", Some(&secret)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
    let (s, bogus) = at(app, &expired, "/api/v1/consultations", Some("cst_nope")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_ne!(bogus["detail"], p["detail"]);
    assert_eq!(
        at(app, &expired, "/api/v1/tokens", Some(&app.admin)).await.0,
        StatusCode::OK,
        "a token without expiry still works"
    );

    // Revoked: admins only; 204; unknown or malformed ids are 404.
    let path = format!("/api/v1/tokens/{id}");
    let other = app.second_instance().await;
    assert_eq!(
        at(app, &other, "/api/v1/consultations", Some(&secret)).await.0,
        StatusCode::OK
    );
    assert_eq!(delete(app, &path, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(delete(app, &path, Some(&app.coordinator)).await, StatusCode::FORBIDDEN);
    assert_eq!(
        delete(
            app,
            "/api/v1/tokens/0190a000-0000-7000-8000-000000000000",
            Some(&app.admin)
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(app, "/api/v1/tokens/nope", Some(&app.admin)).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(delete(app, &path, Some(&app.admin)).await, StatusCode::NO_CONTENT);
    // Refused at once, on this instance and on the other.
    for base in [&app.base, &other] {
        let (s, p) = at(app, base, "/api/v1/consultations", Some(&secret)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{p}");
        assert!(p["detail"].as_str().unwrap().contains("revoked"), "{p}");
    }
    // Revoking again changes nothing.
    assert_eq!(delete(app, &path, Some(&app.admin)).await, StatusCode::NO_CONTENT);
    let (_, list) = app.get("/api/v1/tokens", Some(&app.admin)).await;
    let mine = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["revoked_at"], "2026-01-10T09:30:00Z", "{mine}");

    // Issuing and revoking are audited (once), without the secret.
    let audit = app.store.audit_log(Some(("token", &id)), 10).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["token.revoke", "token.create"]);
    assert!(audit.iter().all(|a| a.actor == "Ada Admin"));
    assert!(!format!("{audit:?}").contains(&secret));
}

on_both!(cli_lists_and_revokes_tokens);
async fn cli_lists_and_revokes_tokens(app: &TestApp) {
    app.seed().await;
    let run = |args: &[&str]| app.cli(args);
    let out = run(&[
        "token",
        "create",
        "--role",
        "coordinator",
        "--name",
        "Cli Cora",
        "--expires-in-days",
        "0",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--expires-in-days"), "{stderr}");
    let out = run(&[
        "token",
        "create",
        "--role",
        "coordinator",
        "--name",
        "Cli Cora",
        "--expires-in-days",
        "7",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("cst_"));
    assert_eq!(app.get("/api/v1/consultations", Some(&secret)).await.0, StatusCode::OK);

    let out = run(&["token", "list", "--format", "json"]);
    assert!(out.status.success());
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Cli Cora")
        .unwrap()
        .clone();
    assert!(!listed.to_string().contains(&secret));
    assert_eq!(
        (row["role"].as_str(), row["revoked"].as_str()),
        (Some("coordinator"), Some(""))
    );
    assert!(!row["expires"].as_str().unwrap().is_empty(), "{row}");
    let csv = run(&["token", "list", "--format", "csv"]);
    assert!(
        String::from_utf8(csv.stdout)
            .unwrap()
            .starts_with("id,name,role,organisation,created,last_used,expires,revoked")
    );

    let out = run(&["token", "revoke", "not-an-id"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["token", "revoke", "0190a000-0000-7000-8000-000000000000"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let id = row["id"].as_str().unwrap();
    let out = run(&["token", "revoke", id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The running server refuses it at once.
    assert_eq!(
        app.get("/api/v1/consultations", Some(&secret)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

on_both!(the_public_record_names_roles_not_holders);
async fn the_public_record_names_roles_not_holders(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    // Drafted and submitted by the officer, approved by the coordinator; opens on the 12th.
    let (s, c) = app
        .post(
            "/api/v1/consultations",
            Some(&tamworth),
            consultation("tamworth", "Park benches", 2, 10),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let id = c["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/consultations/{id}/transitions");
    let (s, b) = app.post(&path, Some(&tamworth), json!({ "to": "submitted" })).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, a) = app
        .get(
            &format!("/api/v1/consultations/{id}/assessment"),
            Some(&app.coordinator),
        )
        .await;
    let approve = if a["approvable"] == true {
        json!({ "to": "approved" })
    } else {
        json!({ "to": "approved", "override": "Short fixture" })
    };
    let (s, b) = app.post(&path, Some(&app.coordinator), approve).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let by = |c: &Value| -> Vec<String> {
        c["status_history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["by"].as_str().unwrap().to_owned())
            .collect()
    };
    // The answer depends on the token: no shared cache may give one caller's to another.
    let res = app
        .client
        .get(format!("{}/api/v1/consultations/{id}", app.base))
        .send()
        .await
        .unwrap();
    let vary: Vec<&str> = res
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        vary.iter().any(|v| v.to_ascii_lowercase().contains("authorization")),
        "{vary:?}"
    );
    // Staff see the holders' names.
    let (_, staff) = app.get(&format!("/api/v1/consultations/{id}"), Some(&tamworth)).await;
    assert_eq!(by(&staff), ["Officer of tamworth", "Cora Coordinator"]);
    assert_eq!(staff["approval"]["by"], "Cora Coordinator");
    // The public sees roles and organisations, in the record, the register and the forward plan.
    let (_, public) = app.get(&format!("/api/v1/consultations/{id}"), None).await;
    assert_eq!(by(&public), ["officer, tamworth", "coordinator"]);
    assert_eq!(public["approval"]["by"], "coordinator");
    for list in ["/api/v1/consultations", "/api/v1/forward-plan"] {
        let (_, page) = app.get(list, None).await;
        let text = page.to_string();
        assert!(text.contains("officer, tamworth"), "{list}: {page}");
        assert!(
            !text.contains("Officer of tamworth") && !text.contains("Cora Coordinator"),
            "{list}: {page}"
        );
    }
    // Opening on its date stays the schedule's.
    let opened = app.later(3).await;
    let (_, public) = at(app, &opened, &format!("/api/v1/consultations/{id}"), None).await;
    assert_eq!(by(&public), ["officer, tamworth", "coordinator", "schedule"]);
    // The hub's page names nobody either.
    let html = app
        .client
        .get(format!("{opened}/activities/{id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Park benches"), "{html}");
    assert!(
        !html.contains("Officer of tamworth") && !html.contains("Cora Coordinator"),
        "{html}"
    );
}
