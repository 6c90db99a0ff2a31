//! Staff accounts and the briefings consult sends them, delivered to a real SMTP server
//! (aiosmtpd): a councillor's weekly digest of the activities in their wards, a coordinator's
//! alert of approvals waiting and feedback overdue, each stopped with its one-click link;
//! disabling an account cancels what waits for it.

use consult_api::FixedClock;
use consult_app::App;
use consult_app::delivery::{Deliverer, DeliverySettings};
use consult_delivery::{SmtpChannel, SmtpSettings};
use consult_tests::{MailSink, TestApp, consultation, error_fields};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

fn deliverer(app: &TestApp, sink: &MailSink, days: u64) -> Deliverer {
    let smtp = SmtpChannel::new(&SmtpSettings {
        url: sink.url(),
        from: "consult <consult@tamworth.gov.uk>".into(),
        connections: 1,
    })
    .unwrap();
    let day = app.today.checked_add_days(chrono::Days::new(days)).unwrap();
    let delivery_app = App::new(app.store.clone())
        .with_clock(FixedClock(day.and_hms_opt(9, 30, 0).unwrap().and_utc()))
        .with_public_url(&app.base);
    Deliverer::new(delivery_app, vec![Arc::new(smtp)], DeliverySettings::default())
}

async fn add_user(app: &TestApp, body: Value) -> String {
    let (s, b) = app.post("/api/v1/users", Some(&app.admin), body).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn outbox(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, page) = app
        .get(&format!("/api/v1/outbox?{query}"), Some(&app.coordinator))
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

on_both!(councillors_and_coordinators_are_briefed);
async fn councillors_and_coordinators_are_briefed(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let (s, b) = app
        .post(
            "/api/v1/areas",
            Some(&app.coordinator),
            json!({ "code": "E05006900", "name": "Spital", "parent": "E07000199" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    // Accounts: every field checked at once; the address is unique whatever its case; admins only.
    let (s, b) = app
        .post(
            "/api/v1/users",
            Some(&app.admin),
            json!({ "email": "nope", "name": "", "role": "councillor", "wards": ["E05000001"] }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(error_fields(&b), ["email", "name", "wards[0]"], "{b}");
    let spital = add_user(
        app,
        json!({ "email": "cllr.ann@tamworth.gov.uk", "name": "Cllr Ann", "role": "councillor", "wards": ["E05006900"] }),
    )
    .await;
    let stevenage = add_user(
        app,
        json!({ "email": "cllr.bob@stevenage.gov.uk", "name": "Cllr Bob", "role": "councillor", "wards": ["E07000243"] }),
    )
    .await;
    // A second councillor, for the whole of Tamworth.
    add_user(
        app,
        json!({ "email": "cllr.cat@tamworth.gov.uk", "name": "Cllr Cat", "role": "councillor", "wards": ["E07000199"] }),
    )
    .await;
    let cora = add_user(
        app,
        json!({ "email": "cora@staffordshire.gov.uk", "name": "Cora", "role": "coordinator" }),
    )
    .await;
    let tam_coord = add_user(
        app,
        json!({ "email": "tam@tamworth.gov.uk", "name": "Tam", "role": "organisation_coordinator", "organisation": "tamworth" }),
    )
    .await;
    add_user(
        app,
        json!({ "email": "pol@police.uk", "name": "Pol", "role": "organisation_coordinator", "organisation": "police" }),
    )
    .await;
    let (s, b) = app
        .post(
            "/api/v1/users",
            Some(&app.admin),
            json!({ "email": "CLLR.ANN@tamworth.gov.uk", "name": "Again", "role": "viewer", "organisation": "tamworth" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_eq!(
        app.post("/api/v1/users", Some(&app.coordinator), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, list) = app.get("/api/v1/users", Some(&app.admin)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 6, "{list}");
    assert_eq!(list["items"][0]["name"], "Cllr Ann");
    assert_eq!(list["items"][0]["wards"], json!(["E05006900"]));

    // Activities, registered on Saturday 10 January 2026 and briefed on Wednesday the 14th
    // (the week runs from Monday the 12th): in Tamworth, one opening on the 13th and one closing
    // that day; one in Stevenage; one waiting for approval; one whose feedback was due on the
    // 12th.
    let opening = app
        .register_activity(
            &tamworth,
            consultation("tamworth", "Library opening hours", 3, 30),
            true,
        )
        .await;
    let closing = app
        .register_activity(&tamworth, consultation("tamworth", "Town centre parking", -5, 9), true)
        .await;
    let mut body = consultation("tamworth", "Stevenage leisure", 4, 30);
    body["audience"]["areas"] = json!(["E07000243"]);
    app.register_activity(&tamworth, body, true).await;
    let waiting = app
        .register_activity(&police, consultation("police", "Police priorities", 20, 30), false)
        .await;
    let (s, b) = app
        .post(
            &format!("/api/v1/consultations/{waiting}/transitions"),
            Some(&app.coordinator),
            json!({ "to": "submitted" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mut old = consultation("tamworth", "Old bins review", -5, 7);
    old["feedback_due_on"] = json!("2026-01-12");
    app.register_activity(&tamworth, old, true).await;

    // Queueing the briefings: a digest for each councillor with something in their wards, an
    // alert for each coordinator with something to see (the police's has the activity waiting).
    let wednesday = app.later(4).await;
    let brief = |base: String| async move {
        app.at(
            &base,
            Method::POST,
            "/api/v1/outbox/briefings",
            Some(&app.coordinator),
            Some(json!({})),
        )
        .await
    };
    let (s, q) = brief(wednesday.clone()).await;
    assert_eq!(s, StatusCode::OK, "{q}");
    assert_eq!(q, json!({ "digests": 3, "alerts": 3 }));
    let (_, again) = brief(wednesday.clone()).await;
    assert_eq!(
        again,
        json!({ "digests": 0, "alerts": 0 }),
        "once per account and period"
    );
    assert_eq!(
        app.post("/api/v1/outbox/briefings", Some(&tamworth), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let digests = outbox(app, "kind=digest").await;
    assert!(
        digests.iter().any(|m| m["key"] == format!("digest/{spital}/2026-W03")),
        "{digests:?}"
    );

    // Delivered: the councillor's digest names what is in their wards and nothing else.
    let sink = MailSink::start();
    let round = deliverer(app, &sink, 4).drain().await.unwrap();
    assert_eq!(round.sent, 6, "{round:?}");
    let mails = sink.wait_for(6).await;
    let to = |addr: &str| mails.iter().find(|m| m.to == addr).unwrap().clone();
    let ann = to("cllr.ann@tamworth.gov.uk");
    assert_eq!(ann.subject, "Activities in your wards, 12 to 18 January 2026");
    assert!(
        ann.text.replace("\r\n", "\n").contains("# Opening this week"),
        "{}",
        ann.text
    );
    assert!(
        ann.text
            .contains("* Library opening hours — tamworth body, open from 13 January 2026"),
        "{}",
        ann.text
    );
    assert!(
        ann.text
            .replace("\r\n", "\n")
            .contains("# Closing this week\n* Town centre parking — tamworth body, closes on 13 January 2026"),
        "{}",
        ann.text
    );
    assert!(
        !ann.text.contains("Stevenage leisure") && !ann.text.contains("Police"),
        "{}",
        ann.text
    );
    assert!(
        ann.html
            .contains(&format!("<a href=\"{}/activities/{opening}\"", app.base)),
        "{}",
        ann.html
    );
    assert!(ann.html.contains("<h2"), "{}", ann.html);
    let bob = to("cllr.bob@stevenage.gov.uk");
    assert!(
        bob.text.contains("Stevenage leisure") && !bob.text.contains("Library"),
        "{}",
        bob.text
    );
    let cora_mail = to("cora@staffordshire.gov.uk");
    assert_eq!(cora_mail.subject, "Activities needing attention, 14 January 2026");
    assert!(
        cora_mail
            .text
            .replace("\r\n", "\n")
            .contains("# Waiting for approval\n* Police priorities — police body, submitted on 10 January 2026"),
        "{}",
        cora_mail.text
    );
    assert!(cora_mail.text.replace("\r\n", "\n").contains("# Feedback overdue\n* Old bins review — tamworth body, closed on 11 January 2026, feedback was due on 12 January 2026"), "{}", cora_mail.text);
    let tam = to("tam@tamworth.gov.uk");
    assert!(
        tam.text.contains("Old bins review") && !tam.text.contains("Police priorities"),
        "{}",
        tam.text
    );
    let pol = to("pol@police.uk");
    assert!(
        pol.text.contains("Police priorities") && !pol.text.contains("Old bins"),
        "{}",
        pol.text
    );

    // The digest's one-click link stops the digest for that councillor (RFC 8058), and only it.
    let link = ann.one_click_link();
    assert!(
        link.starts_with(&format!("{}/unsubscribe/staff/{spital}/digest/", app.base)),
        "{link}"
    );
    assert!(ann.text.contains(&link));
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Stop the weekly digest"));
    let (_, before) = app.get(&format!("/api/v1/users/{spital}"), Some(&app.admin)).await;
    assert_eq!(
        before["stopped_messages"],
        json!([]),
        "opening the link changes nothing"
    );
    let one_click = |url: String| {
        app.client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let forged = link.replace(&spital, &stevenage);
    assert_eq!(one_click(forged).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(one_click(link.clone()).await.unwrap().status(), StatusCode::OK);
    let (_, after) = app.get(&format!("/api/v1/users/{spital}"), Some(&app.admin)).await;
    assert_eq!(after["stopped_messages"], json!(["digest"]));

    // Results published this week appear in next week's digests; Ann stopped hers. Cora's
    // account is disabled: her alert for Monday is cancelled before it goes.
    let (s, r) = app
        .at(
            &wednesday,
            Method::PUT,
            &format!("/api/v1/consultations/{closing}/feedback"),
            Some(&app.coordinator),
            Some(json!({ "items": [ { "theme": "Parking", "you_said": "Cheaper", "we_did": "Cut the fee" } ], "publish": true })),
        )
        .await;
    assert!(s.is_success(), "{r}");
    let (s, q) = brief(app.later(9).await).await;
    assert_eq!(s, StatusCode::OK, "{q}");
    assert_eq!(q, json!({ "digests": 1, "alerts": 3 }), "Cat's digest only");
    let (s, b) = app
        .patch(
            &format!("/api/v1/users/{cora}"),
            Some(&app.admin),
            json!({ "disabled": true }),
        )
        .await;
    assert_eq!((s, &b["disabled"]), (StatusCode::OK, &json!(true)), "{b}");
    // Tam's address changes: what waited was written for the old one and goes no more.
    let (s, b) = app
        .patch(
            &format!("/api/v1/users/{tam_coord}"),
            Some(&app.admin),
            json!({ "email": "tam.new@tamworth.gov.uk" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let cancelled = outbox(app, "kind=alert&status=cancelled").await;
    assert_eq!(cancelled.len(), 2, "{cancelled:?}");
    assert!(cancelled.iter().any(|m| m["key"].as_str().unwrap().contains(&cora)));
    assert!(
        cancelled
            .iter()
            .any(|m| m["key"].as_str().unwrap().contains(&tam_coord))
    );
    let round = deliverer(app, &sink, 9).drain().await.unwrap();
    assert_eq!(round.sent, 2, "{round:?}");
    let later: Vec<_> = sink.wait_for(8).await.into_iter().skip(6).collect();
    let cat = later.iter().find(|m| m.to == "cllr.cat@tamworth.gov.uk").unwrap();
    assert_eq!(cat.subject, "Activities in your wards, 19 to 25 January 2026");
    assert!(
        cat.text.replace("\r\n", "\n").contains(
            "# Results published last week\n* Town centre parking — tamworth body, results published on 14 January 2026"
        ),
        "{}",
        cat.text
    );
    assert!(
        later
            .iter()
            .all(|m| m.to != "cllr.ann@tamworth.gov.uk" && m.to != "cora@staffordshire.gov.uk")
    );
    let pol_monday = later.iter().find(|m| m.to == "pol@police.uk").unwrap();
    assert!(
        pol_monday.subject.ends_with("19 January 2026"),
        "{}",
        pol_monday.subject
    );
    assert!(later.iter().all(|m| !m.to.starts_with("tam")));

    // A role change is checked as a creation is; the CLI reads and changes the same accounts.
    let (s, b) = app
        .patch(
            &format!("/api/v1/users/{tam_coord}"),
            Some(&app.admin),
            json!({ "role": "service_lead" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(error_fields(&b), ["service"]);
    let out = app.cli(&["user", "list", "--format", "csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.contains("Cora,cora@staffordshire.gov.uk,coordinator,,,,,disabled"),
        "{csv}"
    );
    let out = app.cli(&[
        "user",
        "add",
        "--email",
        "x@y.uk",
        "--name",
        "X",
        "--role",
        "councillor",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wards"));
    let out = app.cli(&["outbox", "briefings", "--on", "2026-01-19"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let queued: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        queued,
        json!({ "digests": 0, "alerts": 0 }),
        "already queued by the API"
    );
}

on_both!(the_sweep_briefs_on_working_days_from_seven_once_a_day);
async fn the_sweep_briefs_on_working_days_from_seven_once_a_day(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    add_user(
        app,
        json!({ "email": "cllr.cat@tamworth.gov.uk", "name": "Cllr Cat", "role": "councillor", "wards": ["E07000199"] }),
    )
    .await;
    add_user(
        app,
        json!({ "email": "cora@staffordshire.gov.uk", "name": "Cora", "role": "coordinator" }),
    )
    .await;
    // Registered on Saturday 10 January 2026: something for the councillor in the week from
    // Monday the 12th (opening on the 13th) and in the week from Monday the 19th (opening on the
    // 20th), and something for every coordinator every day (an activity waiting for approval).
    app.register_activity(
        &tamworth,
        consultation("tamworth", "Library opening hours", 3, 30),
        true,
    )
    .await;
    app.register_activity(&tamworth, consultation("tamworth", "Allotment rents", 10, 30), true)
        .await;
    let waiting = app
        .register_activity(&police, consultation("police", "Police priorities", 20, 30), false)
        .await;
    let (s, b) = app
        .post(
            &format!("/api/v1/consultations/{waiting}/transitions"),
            Some(&app.coordinator),
            json!({ "to": "submitted" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // The server's sweep at an instant of January 2026; what it queued (both by its count and
    // by the outbox's rows) and the day it hands on.
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
    let sweep = |d: u32, h: u32, m: u32, s: u32, done: Option<chrono::NaiveDate>| {
        let at = day(d).and_hms_opt(h, m, s).unwrap().and_utc();
        let app = App::new(app.store.clone()).with_clock(FixedClock(at));
        async move { app.sweep_briefings(done).await.unwrap() }
    };
    let queued = |digests, alerts| consult_app::BriefingsQueued { digests, alerts };
    let rows = || async {
        (
            outbox(app, "kind=digest").await.len(),
            outbox(app, "kind=alert").await.len(),
        )
    };
    let none = queued(0, 0);
    let friday = Some(day(9));

    // The weekend: nothing, even with nothing queued yet; the day handed on is the one given.
    assert_eq!(sweep(10, 9, 30, 0, None).await, (none, None), "Saturday");
    assert_eq!(sweep(10, 23, 0, 0, friday).await, (none, friday), "Saturday night");
    assert_eq!(sweep(11, 12, 0, 0, None).await, (none, None), "Sunday");
    assert_eq!(rows().await, (0, 0));

    // Monday before seven: nothing yet.
    assert_eq!(sweep(12, 0, 0, 0, friday).await, (none, friday), "Monday at midnight");
    assert_eq!(sweep(12, 6, 59, 59, friday).await, (none, friday), "Monday at 06:59:59");
    assert_eq!(rows().await, (0, 0));

    // Monday from seven: the councillor's digest and the coordinator's alert, once.
    assert_eq!(
        sweep(12, 7, 0, 0, friday).await,
        (queued(1, 1), Some(day(12))),
        "Monday at 07:00"
    );
    assert_eq!(rows().await, (1, 1));

    // Later that day the sweep does not read the register again: a coordinator added since is
    // not alerted that day by the sweep that was handed the day, though one that was not reads
    // the register and queues their alert.
    let tam = add_user(
        app,
        json!({ "email": "tam@tamworth.gov.uk", "name": "Tam", "role": "coordinator" }),
    )
    .await;
    assert_eq!(
        sweep(12, 15, 0, 0, Some(day(12))).await,
        (none, Some(day(12))),
        "Monday again"
    );
    assert_eq!(rows().await, (1, 1));
    assert!(
        outbox(app, "kind=alert")
            .await
            .iter()
            .all(|m| !m["key"].as_str().unwrap().contains(&tam)),
        "no alert for the coordinator added on Monday"
    );
    assert_eq!(
        sweep(12, 15, 0, 0, None).await,
        (queued(0, 1), Some(day(12))),
        "Monday again, the day not handed on"
    );
    assert_eq!(rows().await, (1, 2));

    // Tuesday: the day's alerts for both coordinators (the week's digest went on Monday).
    assert_eq!(
        sweep(13, 6, 0, 0, Some(day(12))).await,
        (none, Some(day(12))),
        "Tuesday at six"
    );
    assert_eq!(
        sweep(13, 8, 0, 0, Some(day(12))).await,
        (queued(0, 2), Some(day(13))),
        "Tuesday at eight"
    );
    assert_eq!(rows().await, (1, 4));
    assert_eq!(
        sweep(13, 9, 0, 0, Some(day(13))).await,
        (none, Some(day(13))),
        "Tuesday again"
    );

    // The next weekend: nothing, whatever day was last briefed.
    for (d, done) in [(17, Some(day(13))), (17, None), (18, Some(day(13))), (18, None)] {
        assert_eq!(sweep(d, 10, 0, 0, done).await, (none, done), "{d} January");
    }
    assert_eq!(rows().await, (1, 4));

    // The next working day, Monday the 19th: the new week's digest and the day's alerts.
    assert_eq!(
        sweep(19, 7, 0, 0, Some(day(13))).await,
        (queued(1, 2), Some(day(19))),
        "the next Monday"
    );
    assert_eq!(rows().await, (2, 6));
    let digests = outbox(app, "kind=digest").await;
    assert!(
        digests
            .iter()
            .any(|m| m["key"].as_str().unwrap().ends_with("/2026-W04")),
        "{digests:?}"
    );

    // The weekends were quiet because of the day, not for want of something to say: queueing
    // the briefings of each of those days outright alerts both coordinators.
    let coordinator = consult_core::Actor {
        name: "briefings test".into(),
        role: consult_core::Role::Coordinator,
        organisation: None,
        staff: None,
    };
    for d in [10, 11, 17, 18] {
        let at = day(d).and_hms_opt(10, 0, 0).unwrap().and_utc();
        let app = App::new(app.store.clone()).with_clock(FixedClock(at));
        assert_eq!(
            app.queue_briefings(&coordinator, day(d)).await.unwrap(),
            queued(0, 2),
            "{d} January, queued outright"
        );
    }
}
