//! Delivering the outbox over SMTP to a real SMTP server (aiosmtpd): verification codes,
//! invitations (exactly one per resident and activity, on their channel), one-click
//! unsubscribe, temporary failures retried later, hard bounces suppressed.

use consult_api::FixedClock;
use consult_app::App;
use consult_app::delivery::{Deliverer, DeliverySettings, Outgoing, Round, SendFuture, Transport};
use consult_core::ContactChannel;
use consult_delivery::{NotifyChannel, NotifySettings, SmtpChannel, SmtpSettings};
use consult_tests::{MailSink, NotifyStandIn, TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

fn deliverer(app: &TestApp, sink: &MailSink) -> Deliverer {
    deliverer_on(app, sink, 0)
}

/// A delivery worker whose clock is `days` after the test's today.
fn deliverer_on(app: &TestApp, sink: &MailSink, days: u64) -> Deliverer {
    let smtp = SmtpChannel::new(&SmtpSettings {
        url: sink.url(),
        from: "Tamworth Borough Council <consult@tamworth.gov.uk>".into(),
        connections: 2,
    })
    .unwrap();
    let day = app.today.checked_add_days(chrono::Days::new(days)).unwrap();
    let now = day.and_hms_opt(9, 30, 0).unwrap().and_utc();
    let delivery_app = App::new(app.store.clone())
        .with_clock(FixedClock(now))
        .with_public_url(&app.base);
    Deliverer::new(delivery_app, vec![Arc::new(smtp)], DeliverySettings::default())
}

async fn register(app: &TestApp, email: &str, channel: &str) -> (String, String) {
    let body = json!({ "email": email, "postal_address": "1 Market Street, Tamworth", "interests": ["Parks"],
        "areas": ["E07000199"], "channels": [channel], "consent": true });
    let (s, b) = app.post("/api/v1/residents", None, body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    (
        b["id"].as_str().unwrap().to_owned(),
        b["token"].as_str().unwrap().to_owned(),
    )
}

async fn verify(app: &TestApp, code: &str) -> Value {
    let (s, v) = app
        .post("/api/v1/residents/verify", None, json!({ "code": code }))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn outbox(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, page) = app
        .get(&format!("/api/v1/outbox?{query}"), Some(&app.coordinator))
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

on_both!(messages_reach_people_over_smtp);
async fn messages_reach_people_over_smtp(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let sink = MailSink::start();
    let worker = deliverer(app, &sink);

    // Registering queues the verification code in the same transaction; staff see it masked.
    let (ann, ann_token) = register(app, "ann@example.org", "email").await;
    let queued = outbox(app, "kind=verification").await;
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (queued[0]["status"].as_str(), queued[0]["recipient"].as_str()),
        (Some("queued"), Some("a***@example.org"))
    );
    assert_eq!(queued[0]["key"], format!("verification/{ann}"));
    assert_eq!(
        app.get("/api/v1/outbox", Some(&tamworth)).await.0,
        StatusCode::FORBIDDEN,
        "officers do not read the outbox"
    );
    assert_eq!(
        app.get("/api/v1/outbox?status=lost", Some(&app.coordinator)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The worker sends it: one e-mail, both parts, no unsubscribe header on a code.
    let round = worker.drain().await.unwrap();
    assert_eq!((round.claimed, round.sent), (1, 1), "{round:?}");
    let mails = sink.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(mail.to, "ann@example.org");
    assert_eq!(mail.subject, "Confirm your registration");
    assert!(
        mail.header("From").unwrap().contains("consult@tamworth.gov.uk"),
        "{:?}",
        mail.headers
    );
    assert_eq!(mail.header("List-Unsubscribe"), None);
    let code = mail
        .text
        .lines()
        .find_map(|l| l.strip_prefix("Your code is: "))
        .expect("the code is in the text part")
        .trim()
        .to_owned();
    assert!(mail.html.contains(&code), "{}", mail.html);
    let link = format!("{}/verify-registration?code={code}", app.base);
    assert!(mail.text.contains(&link), "{}", mail.text);
    assert!(mail.html.contains(&link), "{}", mail.html);

    // Following the link fills in the code; sending it verifies the registration.
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(&code));
    assert_eq!(verify(app, &code).await["status"], "verified");

    // Sent: the code and the address are gone from the store.
    let sent = outbox(app, "kind=verification").await;
    assert_eq!(
        (
            sent[0]["status"].as_str(),
            &sent[0]["recipient"],
            sent[0]["attempts"].as_u64()
        ),
        (Some("sent"), &Value::Null, Some(1))
    );
    assert!(sent[0]["sent_at"].is_string());
    assert_eq!(app.store.verification_code(ann.parse().unwrap()).await.unwrap(), None);

    // Two more residents, verified with the codes waiting in the store (their mails are then
    // not needed: verifying cancels them); one prefers letters.
    let mut others = Vec::new();
    for (email, channel) in [("cat@example.org", "email"), ("dan@example.org", "post")] {
        let (id, _) = register(app, email, channel).await;
        let code = app.store.verification_code(id.parse().unwrap()).await.unwrap().unwrap();
        verify(app, &code).await;
        others.push(id);
    }
    assert_eq!(outbox(app, "kind=verification&status=cancelled").await.len(), 2);

    // Committing an invitation plan queues one invitation per resident on their channel.
    let mut body = consultation("tamworth", "Parks and open spaces", -2, 30);
    body["topics"] = json!(["parks"]);
    body["summary"] = json!("How should we look after the town's parks?");
    let activity = app.register_activity(&tamworth, body, true).await;
    let invite = format!("/api/v1/consultations/{activity}/invitations?dry_run=false");
    let (s, committed) = app.post(&invite, Some(&app.coordinator), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{committed}");
    assert_eq!(
        (committed["invited"].as_u64(), committed["queued"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(committed["by_channel"], json!({ "email": 2, "post": 1 }));
    let round = worker.drain().await.unwrap();
    assert_eq!(
        (round.claimed, round.sent),
        (2, 2),
        "letters wait for their channel: {round:?}"
    );
    let mails = sink.wait_for(3).await;
    let invitations: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.starts_with("Have your say"))
        .collect();
    let mut to: Vec<&str> = invitations.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["ann@example.org", "cat@example.org"], "exactly one each");
    let letters = outbox(app, &format!("kind=invitation&channel=post&consultation={activity}")).await;
    assert_eq!((letters.len(), letters[0]["status"].as_str()), (1, Some("queued")));

    // Committing again queues nothing more, and nothing more arrives.
    let (_, again) = app.post(&invite, Some(&app.coordinator), json!({})).await;
    assert_eq!(again["queued"], 0);
    assert_eq!(worker.drain().await.unwrap(), Round::default());
    assert_eq!(sink.received().len(), 3);

    // What became of the invitations: counts for the owner's officers, the messages (masked)
    // for coordinators, nothing for another organisation.
    let deliveries = format!("/api/v1/consultations/{activity}/invitations");
    let (s, counts) = app.get(&deliveries, Some(&tamworth)).await;
    assert_eq!(s, StatusCode::OK, "{counts}");
    assert_eq!(
        (&counts["total"], &counts["by_channel"], &counts["messages"]),
        (
            &json!(3),
            &json!({ "email": { "sent": 2 }, "post": { "queued": 1 } }),
            &Value::Null
        ),
        "{counts}"
    );
    assert_eq!(counts["by_status"], json!({ "queued": 1, "sent": 2 }));
    assert!(counts["oldest_waiting"].is_string(), "the letter waits");
    let (_, rows) = app.get(&format!("{deliveries}?limit=2"), Some(&app.coordinator)).await;
    let page = rows["messages"].as_array().unwrap();
    assert_eq!(page.len(), 2, "{rows}");
    assert!(page.iter().all(|m| m["kind"] == "invitation"));
    assert!(
        page.iter()
            .all(|m| m["recipient"].is_null() || m["recipient"].as_str().unwrap().contains("***")),
        "{rows}"
    );
    let cursor = rows["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .get(&format!("{deliveries}?limit=2&cursor={cursor}"), Some(&app.coordinator))
        .await;
    assert_eq!(rest["messages"].as_array().unwrap().len(), 1, "{rest}");
    assert_eq!(app.get(&deliveries, Some(&police)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("{deliveries}?limit=0"), Some(&tamworth)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The invitation: both parts, the activity's link and dates, one-click unsubscribe (RFC 8058).
    let ann_mail = invitations.iter().find(|m| m.to == "ann@example.org").unwrap();
    assert_eq!(ann_mail.subject, "Have your say: Parks and open spaces");
    let activity_url = format!("{}/activities/{activity}", app.base);
    assert!(ann_mail.text.contains(&activity_url), "{}", ann_mail.text);
    assert!(ann_mail.html.contains(&activity_url), "{}", ann_mail.html);
    assert!(ann_mail.text.contains("How should we look after the town's parks?"));
    assert!(
        ann_mail.html.contains("How should we look after the town&#39;s parks?")
            || ann_mail
                .html
                .contains("How should we look after the town&#x27;s parks?")
    );
    let unsubscribe = ann_mail.one_click_link();
    assert!(
        unsubscribe.starts_with(&format!("{}/unsubscribe/{ann}/", app.base)),
        "{unsubscribe}"
    );
    assert!(ann_mail.text.contains(&unsubscribe));

    // Opening the link changes nothing (a page with a button); a wrong token is not found.
    let page = app.client.get(&unsubscribe).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let forged = format!("{}/unsubscribe/{ann}/{}", app.base, "00".repeat(32));
    assert_eq!(
        app.client
            .post(&forged)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let me = |token: &str| {
        app.client
            .get(format!("{}/api/v1/residents/{ann}", app.base))
            .header("x-resident-token", token.to_owned())
    };
    let before: Value = me(&ann_token).send().await.unwrap().json().await.unwrap();
    assert!(before["consent_at"].is_string(), "{before}");
    // The one-click POST a mail provider sends.
    let res = app
        .client
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let after: Value = me(&ann_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(after["consent_at"], Value::Null, "{after}");

    // A temporary failure (451) is tried again later, not given up.
    register(app, "busy@example.org", "email").await;
    let round = worker.drain().await.unwrap();
    assert_eq!((round.claimed, round.retrying), (1, 1), "{round:?}");
    let busy = outbox(app, "kind=verification&status=queued").await;
    assert_eq!(busy.len(), 1);
    assert_eq!(busy[0]["attempts"], 1);
    assert!(busy[0]["last_error"].as_str().unwrap().contains("451"), "{}", busy[0]);
    assert!(busy[0]["due_at"].as_str().unwrap() > busy[0]["created_at"].as_str().unwrap());
    assert_eq!(busy[0]["recipient"], "b***@example.org", "kept until it goes");

    // A hard bounce (550) fails the message and suppresses the address.
    register(app, "bounce@example.org", "email").await;
    let round = worker.drain().await.unwrap();
    assert_eq!((round.claimed, round.failed), (1, 1), "{round:?}");
    let failed = outbox(app, "status=failed").await;
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["last_error"].as_str().unwrap().contains("550"),
        "{}",
        failed[0]
    );
    // Retrying queues it again (audited); it bounces again.
    let id = failed[0]["id"].as_str().unwrap();
    let (s, retried) = app
        .post(&format!("/api/v1/outbox/{id}/retry"), Some(&app.coordinator), json!({}))
        .await;
    assert_eq!(
        (s, retried["status"].as_str()),
        (StatusCode::OK, Some("queued")),
        "{retried}"
    );
    assert_eq!(
        app.post(&format!("/api/v1/outbox/{id}/retry"), Some(&app.coordinator), json!({}))
            .await
            .0,
        StatusCode::CONFLICT,
        "only a failed message is retried"
    );
    assert_eq!(worker.drain().await.unwrap().failed, 1);
    // Registering the bounced address again queues a message that will never go.
    register(app, "bounce@example.org", "email").await;
    let suppressed = outbox(app, "status=suppressed").await;
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["recipient"], Value::Null);
    assert_eq!(worker.drain().await.unwrap().claimed, 0);
    assert_eq!(sink.received().len(), 3, "nothing more reached the server");
}

on_both!(results_notices_and_replies_reach_people);
async fn results_notices_and_replies_reach_people(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let sink = MailSink::start();
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Town centre bins", -2, 10), true)
        .await;
    let responses = format!("/api/v1/consultations/{id}/responses");

    // Respondents may leave an address to hear about the results; it is checked, kept apart from
    // the response and asked for once per address.
    for to in [
        "eve@example.org",
        " eve@Example.ORG ",
        "Eve@example.org",
        "07700 900123",
    ] {
        let (s, r) = app
            .post(
                &responses,
                None,
                json!({ "comments": "More bins", "results_notice_to": to }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r.get("results_notice_to"), None, "{r}");
    }
    let (s, p) = app
        .post(
            &responses,
            None,
            json!({ "comments": "x", "results_notice_to": "01827 709709" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a landline takes no text: {p}");
    assert_eq!(p["errors"][0]["field"], "results_notice_to");
    // The contract's shape, `notify`, asks the same; each address in its own field.
    let (s, r) = app
        .post(
            &responses,
            None,
            json!({ "comments": "Bins", "notify": { "email": "gus@example.org" } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r.get("notify"), None, "{r}");
    for (body, field) in [
        (json!({ "notify": { "phone": "gus@example.org" } }), "notify.phone"),
        (json!({ "notify": { "email": "07700 900123" } }), "notify.email"),
        (
            json!({ "notify": { "email": "gus@example.org" }, "results_notice_to": "07700 900123" }),
            "notify",
        ),
    ] {
        let (s, p) = app.post(&responses, None, body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let activity: consult_core::ConsultationId = id.parse().unwrap();
    assert_eq!(app.store.results_notices_waiting(activity).await.unwrap(), 3);
    // Officers reading the responses do not see the addresses.
    let (s, read) = app.get(&responses, Some(&tamworth)).await;
    assert_eq!(s, StatusCode::OK, "{read}");
    assert!(!read.to_string().contains("eve@"), "{read}");
    assert!(!read.to_string().contains("900123"), "{read}");

    // Comments and complaints: a reply goes to a contact that is an address, once per text.
    let remarks = format!("/api/v1/consultations/{id}/remarks");
    let mut remark_ids = Vec::new();
    for contact in ["fay@example.org", "ring the office"] {
        let body = json!({ "kind": "complaint", "body": "The drop-in was <b>shut</b>", "contact": contact });
        let (s, r) = app.post(&remarks, None, body).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        remark_ids.push(r["id"].as_str().unwrap().to_owned());
    }
    let reply = "Sorry: the caretaker was ill.\n\nThe next drop-in is on Friday & it will be open.";
    for remark in &remark_ids {
        let (s, r) = app
            .patch(
                &format!("/api/v1/remarks/{remark}"),
                Some(&tamworth),
                json!({ "status": "acknowledged", "reply": reply }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
    // Resolving with the same reply sends nothing more; no message for "ring the office".
    let (s, _) = app
        .patch(
            &format!("/api/v1/remarks/{}", remark_ids[0]),
            Some(&tamworth),
            json!({ "status": "resolved", "reply": reply }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let replies = outbox(app, "kind=reply").await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["recipient"], "f***@example.org");
    let worker = deliverer(app, &sink);
    assert_eq!(worker.drain().await.unwrap().sent, 1);
    let mails = sink.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(
        (mail.to.as_str(), mail.subject.as_str()),
        ("fay@example.org", "A reply about Town centre bins")
    );
    assert!(
        mail.text.contains("The next drop-in is on Friday & it will be open."),
        "{}",
        mail.text
    );
    let paragraph =
        ["&amp;", "&#38;"].map(|amp| format!("<p>The next drop-in is on Friday {amp} it will be open.</p>"));
    assert!(
        paragraph.iter().any(|p| mail.html.contains(p)),
        "paragraphs, escaped: {}",
        mail.html
    );
    assert!(
        mail.text.contains(&format!("{}/activities/{id}", app.base)),
        "{}",
        mail.text
    );

    // Publishing the results (after the close) queues one notice per address, in the same
    // transaction, and deletes the addresses waiting.
    let closed = app.later(13).await;
    assert!(
        outbox(app, "kind=results_notice").await.is_empty(),
        "nothing before publication"
    );
    let feedback = json!({ "items": [ { "theme": "Bins", "you_said": "More bins", "we_did": "Ordered twenty" } ], "publish": true });
    let (s, r) = app
        .at(
            &closed,
            Method::PUT,
            &format!("/api/v1/consultations/{id}/feedback"),
            Some(&app.coordinator),
            Some(feedback),
        )
        .await;
    assert!(s.is_success(), "{r}");
    assert_eq!(app.store.results_notices_waiting(activity).await.unwrap(), 0);
    let notices = outbox(app, "kind=results_notice").await;
    let mut channels: Vec<&str> = notices.iter().map(|n| n["channel"].as_str().unwrap()).collect();
    channels.sort_unstable();
    assert_eq!(channels, ["email", "email", "sms"], "{notices:?}");

    // The e-mails go; the text waits for a text-message channel.
    let worker = deliverer_on(app, &sink, 13);
    assert_eq!(worker.drain().await.unwrap().sent, 2);
    let mails = sink.wait_for(3).await;
    assert!(mails.iter().any(|m| m.to == "gus@example.org"));
    let notice = mails
        .iter()
        .find(|m| m.subject.starts_with("Results published") && m.to == "eve@example.org")
        .unwrap();
    assert_eq!(notice.to, "eve@example.org");
    assert_eq!(notice.subject, "Results published: Town centre bins");
    assert!(
        notice.text.starts_with("tamworth body has published"),
        "the owner by name: {}",
        notice.text
    );
    assert!(
        notice.html.contains(&format!("{}/activities/{id}", app.base)),
        "{}",
        notice.html
    );
    assert_eq!(notice.header("List-Unsubscribe"), None, "a one-off message");
    let sent = outbox(app, "kind=results_notice&status=sent").await;
    assert_eq!((sent.len(), &sent[0]["recipient"]), (2, &Value::Null));
    let waiting = outbox(app, "kind=results_notice&channel=sms").await;
    assert_eq!(waiting[0]["status"], "queued");

    // Publishing again (a corrected item) sends nothing more.
    let feedback = json!({ "items": [ { "theme": "Bins", "you_said": "More bins", "we_did": "Ordered twenty-two" } ], "publish": true });
    let (s, r) = app
        .at(
            &closed,
            Method::PUT,
            &format!("/api/v1/consultations/{id}/feedback"),
            Some(&app.coordinator),
            Some(feedback),
        )
        .await;
    assert!(s.is_success(), "{r}");
    assert_eq!(outbox(app, "kind=results_notice").await.len(), 3);
}

on_both!(letters_are_printed_once);
async fn letters_are_printed_once(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    // A resident who gave only a postal address: the registration code goes by letter.
    let body = json!({
        "postal_address": "Flat 2, 14 Church Street\nTamworth, B79 7BX", "interests": ["Parks"],
        "areas": ["E07000199"], "channels": ["post"], "consent": true });
    let (s, b) = app.post("/api/v1/residents", None, body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let eve: uuid::Uuid = b["id"].as_str().unwrap().parse().unwrap();
    let letters = |query: &'static str| async move {
        let (s, v) = app
            .get(&format!("/api/v1/outbox/letters{query}"), Some(&app.coordinator))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    };
    let waiting = letters("").await;
    assert_eq!(waiting["count"], 1, "{waiting}");
    assert_eq!(waiting["letters"][0]["kind"], "verification");
    let code = app.store.verification_code(eve).await.unwrap().unwrap();
    assert!(waiting["letters"][0]["body"].as_str().unwrap().contains(&code));
    verify(app, &code).await;
    assert_eq!(letters("").await["count"], 0, "verifying cancels the letter");

    // An invitation plan: the resident's invitation waits to be printed, never claimed by a worker.
    let mut activity = consultation("tamworth", "Parks and open spaces", -2, 30);
    activity["topics"] = json!(["parks"]);
    activity["summary"] = json!("How should we look after the town's parks?");
    let activity = app.register_activity(&tamworth, activity, true).await;
    let (s, committed) = app
        .post(
            &format!("/api/v1/consultations/{activity}/invitations?dry_run=false"),
            Some(&app.coordinator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{committed}");
    assert_eq!(committed["by_channel"], json!({ "post": 1 }));
    let waiting = letters("?sender=Tamworth%20engagement%20hub").await;
    assert_eq!(waiting["count"], 1, "{waiting}");
    let letter = &waiting["letters"][0];
    let id = letter["id"].as_str().unwrap().to_owned();
    assert_eq!(letter["kind"], "invitation");
    assert_eq!(letter["from"], "tamworth body", "the owning organisation");
    assert_eq!(
        letter["address"],
        json!(["Flat 2", "14 Church Street", "Tamworth", "B79 7BX"])
    );
    assert_eq!(letter["heading"], "Have your say: Parks and open spaces");
    let text = letter["body"].as_str().unwrap();
    assert!(text.contains(&format!("/activities/{activity}\n")), "{text}");
    assert!(text.contains("How should we look after the town's parks?"), "{text}");

    // The mail merge: a row per letter, the address in lines, formula-looking cells neutralised.
    let res = app
        .send(
            Method::GET,
            "/api/v1/outbox/letters?format=csv",
            Some(&app.coordinator),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let csv_text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{csv_text}");
    let cell = |name: &str| rows[0][header.iter().position(|h| h == name).unwrap()].to_owned();
    assert_eq!(cell("id"), id);
    assert_eq!(
        (cell("address_line_1"), cell("address_line_4"), cell("address_line_5")),
        ("Flat 2".into(), "B79 7BX".into(), String::new())
    );
    assert_eq!(cell("activity_title"), "Parks and open spaces");

    // The PDF: a real document whose text holds the address, the heading and the link.
    let res = app
        .send(
            Method::GET,
            "/api/v1/outbox/letters?format=pdf",
            Some(&app.coordinator),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = lopdf::Document::load_mem(&res.bytes().await.unwrap()).unwrap();
    let pages: Vec<u32> = pdf.get_pages().keys().copied().collect();
    assert!(!pages.is_empty());
    let printed = pdf.extract_text(&pages).unwrap();
    for needle in [
        "14 Church Street",
        "B79 7BX",
        "Have your say: Parks and open spaces",
        &id,
    ] {
        assert!(printed.contains(needle), "`{needle}` not in the PDF's text: {printed}");
    }

    // Only coordinators see addresses; a bad format or limit names the field.
    assert_eq!(
        app.get("/api/v1/outbox/letters", Some(&tamworth)).await.0,
        StatusCode::FORBIDDEN
    );
    for (query, field) in [("format=docx", "format"), ("limit=0", "limit")] {
        let (s, p) = app
            .get(&format!("/api/v1/outbox/letters?{query}"), Some(&app.coordinator))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    let (s, p) = app
        .post(
            "/api/v1/outbox/letters/printed",
            Some(&app.coordinator),
            json!({ "ids": [] }),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("ids"))
    );

    // Confirming them printed through the CLI, from the mail-merge file: sent, address erased.
    let dir = tempfile::tempdir().unwrap();
    let merge = dir.path().join("letters.csv");
    let out = app.cli(&["outbox", "letters", "--csv", merge.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(&merge).unwrap().contains("14 Church Street"));
    let out = app.cli(&["outbox", "printed", "--from", merge.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(said["printed"], 1, "{said}");
    let sent = outbox(app, "channel=post&kind=invitation").await;
    assert_eq!(
        (sent[0]["status"].as_str(), &sent[0]["recipient"]),
        (Some("sent"), &Value::Null),
        "{}",
        sent[0]
    );
    assert_eq!(letters("").await["count"], 0);
    // A second confirmation marks nothing.
    let (s, again) = app
        .post(
            "/api/v1/outbox/letters/printed",
            Some(&app.coordinator),
            json!({ "ids": [id] }),
        )
        .await;
    assert_eq!((s, again["printed"].as_u64()), (StatusCode::OK, Some(0)), "{again}");
    let out = app.cli(&["outbox", "printed", "not-a-uuid"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A delivery worker sending through the GOV.UK Notify stand-in, `days` after the test's today.
fn notify_deliverer(app: &TestApp, notify: &NotifyStandIn, days: u64, lose_answers: bool) -> Deliverer {
    let channel = NotifyChannel::new(&NotifySettings {
        api_key: notify.api_key.clone(),
        url: notify.url(),
        templates: notify.template_settings(),
        channels: vec![ContactChannel::Email, ContactChannel::Sms, ContactChannel::Post],
        connections: 4,
    })
    .unwrap();
    let day = app.today.checked_add_days(chrono::Days::new(days)).unwrap();
    let delivery_app = App::new(app.store.clone())
        .with_clock(FixedClock(day.and_hms_opt(9, 30, 0).unwrap().and_utc()))
        .with_public_url(&app.base);
    let transport: Arc<dyn Transport> = if lose_answers {
        Arc::new(LostAnswers(channel))
    } else {
        Arc::new(channel)
    };
    Deliverer::new(delivery_app, vec![transport], DeliverySettings::default())
}

/// A transport whose process "dies" after the provider accepted each message and before the
/// answer was recorded: the message is sent, and the try is reported as not known.
#[derive(Debug)]
struct LostAnswers(NotifyChannel);

impl Transport for LostAnswers {
    fn channels(&self) -> Vec<ContactChannel> {
        self.0.channels()
    }
    fn concurrency(&self) -> usize {
        1
    }
    fn send<'a>(&'a self, message: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            let _ = self.0.send(message).await;
            consult_core::SendOutcome::Temporary("connection lost before the answer".into())
        })
    }
}

on_both!(messages_reach_people_through_gov_uk_notify);
async fn messages_reach_people_through_gov_uk_notify(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let callback_token = "notify-callback-token-1234";
    let reports = app.instance_with_provider_token(callback_token).await;
    let callback = format!("{reports}/api/v1/outbox/reports/notify");
    let notify = NotifyStandIn::start(Some((&callback, callback_token)));
    let worker = notify_deliverer(app, &notify, 0, false);

    // Four residents, one per channel and one whose address will bounce; all but Ann are
    // verified with the code in the store (their codes then never go).
    let mut ids = Vec::new();
    for body in [
        json!({ "email": "ann@example.org" }),
        json!({ "phone": "07700 900123", "channels": ["sms"] }),
        json!({ "postal_address": "1 High Street, Tamworth, Staffordshire, B79 7BX", "channels": ["post"] }),
        json!({ "email": "bounce@example.org" }),
    ] {
        let mut full =
            json!({ "interests": ["Parks"], "areas": ["E07000199"], "consent": true, "channels": ["email"] });
        full.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
        let (s, b) = app.post("/api/v1/residents", None, full).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        ids.push(b["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap());
    }
    for id in &ids[1..] {
        let code = app.store.verification_code(*id).await.unwrap().unwrap();
        verify(app, &code).await;
    }

    // Ann's code goes through Notify: a signed request the stand-in accepts, her code and link
    // as personalisation, the message's id as the reference, Notify's id kept.
    let round = worker.drain().await.unwrap();
    assert_eq!((round.claimed, round.sent), (1, 1), "{round:?}");
    let got = notify.received().await;
    assert_eq!(got.len(), 1);
    let code_mail = &got[0];
    assert_eq!(
        (code_mail["type"].as_str(), code_mail["to"].as_str()),
        (Some("email"), Some("ann@example.org"))
    );
    let code = code_mail["personalisation"]["code"].as_str().unwrap().to_owned();
    assert!(code_mail["content"]["body"].as_str().unwrap().contains(&code));
    let sent = outbox(app, "kind=verification&status=sent").await;
    assert_eq!(sent[0]["id"], code_mail["reference"]);
    assert_eq!(sent[0]["reference"], code_mail["id"], "{}", sent[0]);
    verify(app, &code).await;

    // An invitation plan: one message each, on their channel, each to Notify's endpoint for it.
    let mut body = consultation("tamworth", "Parks and open spaces", -2, 30);
    body["topics"] = json!(["parks"]);
    let activity = app.register_activity(&tamworth, body, true).await;
    let (s, committed) = app
        .post(
            &format!("/api/v1/consultations/{activity}/invitations?dry_run=false"),
            Some(&app.coordinator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{committed}");
    assert_eq!(committed["by_channel"], json!({ "email": 2, "post": 1, "sms": 1 }));
    let round = worker.drain().await.unwrap();
    assert_eq!((round.claimed, round.sent), (4, 4), "{round:?}");
    let got = notify.received().await;
    let invitations: Vec<&Value> = got[1..].iter().collect();
    let of = |t: &str| invitations.iter().filter(|n| n["type"] == t).collect::<Vec<_>>();
    assert_eq!((of("email").len(), of("sms").len(), of("letter").len()), (2, 1, 1));
    let text = &of("sms")[0];
    assert_eq!(text["to"], "+447700900123", "normalised when registered");
    let activity_url = format!("{}/activities/{activity}", app.base);
    assert!(
        text["content"]["body"].as_str().unwrap().contains(&activity_url),
        "{text}"
    );
    let letter = &of("letter")[0]["personalisation"];
    assert_eq!(
        (letter["address_line_1"].as_str(), letter["address_line_4"].as_str()),
        (Some("1 High Street"), Some("B79 7BX"))
    );
    let email = of("email").into_iter().find(|n| n["to"] == "ann@example.org").unwrap();
    let unsubscribe = email["content"]["one_click_unsubscribe_url"].as_str().unwrap();
    assert!(
        unsubscribe.starts_with(&format!("{}/unsubscribe/", app.base)),
        "{email}"
    );

    // Notify reports the bounce: the invitation is marked failed and the address suppressed,
    // so registering it again queues a code that will never go.
    let bounced = invitations.iter().find(|n| n["to"] == "bounce@example.org").unwrap();
    let reference = bounced["reference"].as_str().unwrap().to_owned();
    let mut failed = Vec::new();
    for _ in 0..100 {
        failed = outbox(app, "status=failed").await;
        if !failed.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(failed.len(), 1, "the callback marked the bounced invitation failed");
    assert_eq!(failed[0]["id"], reference);
    assert!(
        failed[0]["last_error"].as_str().unwrap().contains("permanent failure"),
        "{}",
        failed[0]
    );
    let (s, _) = app
        .post(
            "/api/v1/residents",
            None,
            json!({ "email": "Bounce@example.org", "consent": true,
            "interests": ["Parks"], "areas": ["E07000199"], "channels": ["email"] }),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(outbox(app, "status=suppressed").await.len(), 1);

    // A report without the callback token, or with another, is refused and changes nothing.
    let receipt = json!({ "reference": reference, "to": "ann@example.org", "status": "permanent-failure",
        "notification_type": "email" });
    for token in [None, Some("wrong-token-123456")] {
        let mut req = app.client.post(&callback).json(&receipt);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        assert_eq!(req.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let (s, p) = app
        .at(
            &reports,
            Method::POST,
            "/api/v1/outbox/reports/notify",
            Some(callback_token),
            Some(json!({ "to": "x" })),
        )
        .await;
    assert_eq!(
        (s, p["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("status")),
        "{p}"
    );

    // At most once through Notify: a worker that loses Notify's answer after the message was
    // accepted tries again later, finds the message at Notify by its reference, and records it
    // sent without sending it again.
    let (s, b) = app
        .post(
            "/api/v1/residents",
            None,
            json!({ "email": "late@example.org", "consent": true,
            "interests": ["Parks"], "areas": ["E07000199"], "channels": ["email"] }),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let lossy = notify_deliverer(app, &notify, 0, true);
    assert_eq!(lossy.drain().await.unwrap().retrying, 1);
    let later = notify_deliverer(app, &notify, 1, false);
    let round = later.drain().await.unwrap();
    assert_eq!((round.claimed, round.sent), (1, 1), "{round:?}");
    let to_late = notify
        .received()
        .await
        .into_iter()
        .filter(|n| n["to"] == "late@example.org")
        .count();
    assert_eq!(to_late, 1, "sent to Notify once");
    let late = outbox(app, "kind=verification&status=sent").await;
    assert_eq!(late.len(), 2, "{late:?}");

    // `consult deliver --once` with Notify's settings from the command line.
    let (s, _) = app
        .post(
            "/api/v1/residents",
            None,
            json!({ "email": "cli@example.org", "consent": true,
            "interests": ["Parks"], "areas": ["E07000199"], "channels": ["email"] }),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let templates: Vec<String> = notify
        .templates
        .iter()
        .map(|((kind, channel), id)| format!("{kind}:{channel}={id}"))
        .collect();
    let url = notify.url();
    let mut args = vec![
        "deliver",
        "--once",
        "--notify-api-key",
        &notify.api_key,
        "--notify-url",
        &url,
    ];
    for t in &templates {
        args.extend(["--notify-template", t.as_str()]);
    }
    let out = app.cli(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(said["sent"], 1, "{said}");
    assert!(notify.received().await.iter().any(|n| n["to"] == "cli@example.org"));
    let bad_template = "invitation:fax=0190a000-0000-7000-8000-000000000000";
    for (args, needle) in [
        (vec!["deliver", "--once", "--notify-api-key", "not-a-key"], "API key"),
        (
            vec![
                "deliver",
                "--once",
                "--notify-api-key",
                &notify.api_key,
                "--notify-template",
                bad_template,
            ],
            "one of email, sms, post",
        ),
    ] {
        let out = app.cli(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
}

on_both!(fatigue_counts_invitations_that_arrive);
/// An invitation that never reaches its resident (a hard bounce, an address suppressed) does not
/// count against their fatigue rules; one retried counts again until it fails again.
async fn fatigue_counts_invitations_that_arrive(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let sink = MailSink::start();
    let worker = deliverer(app, &sink);
    let (s, _) = app
        .put(
            "/api/v1/organisations/tamworth/fatigue-rules",
            Some(&app.coordinator),
            json!({ "max_contacts": 1, "window_days": 365, "min_gap_days": 0, "max_concurrent": 3 }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    for email in ["ok@example.org", "bounce@example.org"] {
        let (id, _) = register(app, email, "email").await;
        let code = app.store.verification_code(id.parse().unwrap()).await.unwrap().unwrap();
        verify(app, &code).await;
    }
    let mut activities = Vec::new();
    for n in 1..=2 {
        let mut body = consultation("tamworth", &format!("Parks and open spaces {n}"), -2, 30);
        body["topics"] = json!(["parks"]);
        activities.push(app.register_activity(&tamworth, body, true).await);
    }
    let plan = |id: String, dry: bool| async move {
        let (s, p) = app
            .post(
                &format!("/api/v1/consultations/{id}/invitations?dry_run={dry}"),
                Some(&app.coordinator),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        p
    };
    let committed = plan(activities[0].clone(), false).await;
    assert_eq!(committed["queued"], 2, "{committed}");
    // Before delivery both invitations count: the second activity may invite nobody.
    let before = plan(activities[1].clone(), true).await;
    assert_eq!(
        (&before["invited"], &before["excluded"]),
        (&json!(0), &json!({ "fatigue_max_contacts": 2 })),
        "{before}"
    );
    // One arrives, one bounces: only the one that arrived counts.
    let round = worker.drain().await.unwrap();
    assert_eq!((round.sent, round.failed), (1, 1), "{round:?}");
    let after = plan(activities[1].clone(), true).await;
    assert_eq!(
        (&after["invited"], &after["excluded"]),
        (&json!(1), &json!({ "fatigue_max_contacts": 1 })),
        "{after}"
    );
    // Retried, it counts again; failing again, it stops counting.
    let failed = outbox(app, "kind=invitation&status=failed").await;
    let id = failed[0]["id"].as_str().unwrap();
    let (s, _) = app
        .post(&format!("/api/v1/outbox/{id}/retry"), Some(&app.coordinator), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(plan(activities[1].clone(), true).await["invited"], 0);
    assert_eq!(worker.drain().await.unwrap().failed, 1);
    assert_eq!(plan(activities[1].clone(), true).await["invited"], 1);
    // Committing the second plan queues the bounced address's invitation as suppressed: it
    // never goes and never counts.
    let second = plan(activities[1].clone(), false).await;
    assert_eq!(
        (&second["invited"], &second["queued"]),
        (&json!(1), &json!(0)),
        "{second}"
    );
    assert_eq!(outbox(app, "kind=invitation&status=suppressed").await.len(), 1);
    let mut body = consultation("tamworth", "Parks and open spaces 3", -2, 30);
    body["topics"] = json!(["parks"]);
    let third = app.register_activity(&tamworth, body, true).await;
    let next = plan(third, true).await;
    assert_eq!(
        (&next["invited"], &next["excluded"]),
        (&json!(1), &json!({ "fatigue_max_contacts": 1 })),
        "{next}"
    );
}
