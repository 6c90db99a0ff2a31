//! Answering a questionnaire on the public hub without script, driven like a browser would:
//! GET each page, POST its form (the hidden fields it carries and the answers typed), follow.
//! One page per section (split where a condition names a question on the same page), every
//! question type, a `show_if` the server skips and one it shows, errors beside fields with a
//! linked summary and the answers kept, check your answers with "Change" (hiding a question whose
//! answer is then dropped), the stored response read back through the staff API; and a quick
//! poll answered in one click from the activity's page.

use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn definition() -> Value {
    json!({ "sections": [
        { "title": "Your visits", "intro": "About how you use the park.", "questions": [
            { "key": "visit", "type": "single_choice", "text": "Do you visit the park?", "required": true,
              "hint": "Any time in the last year.",
              "options": [ { "key": "yes", "label": "Yes" }, { "key": "no", "label": "No" } ], "other": true },
            { "key": "uses", "type": "multiple_choice", "text": "What do you use it for?", "max_choices": 2,
              "options": [ { "key": "walk", "label": "Walking" }, { "key": "play", "label": "Play" },
                           { "key": "sport", "label": "Sport" } ], "other": true,
              "show_if": { "question": "visit", "any_of": ["yes"] } },
            { "key": "often", "type": "scale", "text": "How often do you go?",
              "scale": { "min": 1, "max": 5, "min_label": "Rarely", "max_label": "Every day" } }
        ] },
        { "title": "Your priorities", "questions": [
            { "key": "why_not", "type": "free_text", "text": "Why do you not visit?", "max_length": 200,
              "show_if": { "question": "visit", "any_of": ["no"] } },
            { "key": "priorities", "type": "ranking", "text": "Rank these improvements",
              "options": [ { "key": "lights", "label": "Lighting" }, { "key": "bins", "label": "Bins" },
                           { "key": "seats", "label": "Seats" } ] },
            { "key": "age", "type": "number", "text": "Your age", "min": 16, "max": 120, "required": true },
            { "key": "last", "type": "date", "text": "When did you last visit?" },
            { "key": "ideas", "type": "free_text", "text": "Any ideas?", "max_length": 100 },
            { "key": "agree", "type": "grid", "text": "How far do you agree?",
              "scale": { "min": 1, "max": 5, "min_label": "Disagree", "max_label": "Agree" },
              "statements": [ { "key": "safe", "text": "It feels safe" }, { "key": "clean", "text": "It is clean" } ] }
        ] }
    ] })
}

/// A browser without script: one anti-forgery cookie, forms posted with their hidden fields.
struct Browser {
    client: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(base: &str) -> Browser {
        Browser {
            client: reqwest::Client::new(),
            base: base.to_owned(),
            cookie: None,
        }
    }

    fn keep_cookie(&mut self, res: &reqwest::Response) {
        if let Some(c) = res.headers().get("set-cookie") {
            let c = c.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = Some(c);
        }
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        self.keep_cookie(&res);
        (res.status(), res.text().await.unwrap())
    }

    /// Posts the (first) form of `html` with its hidden fields and `fields`.
    async fn submit(&mut self, html: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let form = &html[html.find("<form method=\"post\"").expect("a form")..];
        let action = attribute(form, "action");
        let form = &form[..form.find("</form>").unwrap()];
        let mut body: Vec<(String, String)> = hidden_fields(form);
        body.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let mut req = self.client.post(format!("{}{action}", self.base)).form(&body);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let res = req.send().await.unwrap();
        self.keep_cookie(&res);
        (res.status(), res.text().await.unwrap())
    }
}

/// Reverses askama's HTML escaping.
fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&quot;", "\"")
        .replace("&#38;", "&")
}

/// The value of the first `name="..."` attribute in `html`.
fn attribute(html: &str, name: &str) -> String {
    let at = html.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    unescape(html[at..].split('"').next().unwrap())
}

/// Every hidden input of a form, unescaped.
fn hidden_fields(form: &str) -> Vec<(String, String)> {
    form.match_indices("<input type=\"hidden\"")
        .map(|(at, _)| {
            let tag = &form[at..at + form[at..].find('>').unwrap()];
            (attribute(tag, "name"), attribute(tag, "value"))
        })
        .collect()
}

/// The `<h1>` of a page.
fn h1(html: &str) -> String {
    let at = html.find("<h1>").unwrap() + 4;
    html[at..].split("</h1>").next().unwrap().to_owned()
}

/// The reference on the thank-you page.
fn reference(html: &str) -> String {
    html.split("<strong>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned()
}

on_both!(hub_questionnaire_pages);
async fn hub_questionnaire_pages(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Park survey", 10, 30), true)
        .await;
    let (s, q) = app
        .put(
            &format!("/api/v1/consultations/{id}/questionnaire"),
            Some(&tamworth),
            definition(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{q}");
    let respond = format!("/activities/{id}/respond");

    // Not open yet: no form.
    let mut early = Browser::new(&app.base);
    let (s, body) = early.get(&respond).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains("not taking responses") && !body.contains("<form method"),
        "{body}"
    );

    let later = app.later(12).await;
    let mut b = Browser::new(&later);
    let (_, activity) = b.get(&format!("/activities/{id}")).await;
    assert!(activity.contains(&format!("href=\"{respond}\"")), "{activity}");
    assert!(!activity.contains("step\" value=\"poll"), "not a poll");

    // Page 1: the first section up to the question whose condition is on it.
    let (s, p1) = b.get(&respond).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h1(&p1), "Your visits");
    assert!(p1.contains("About how you use the park."), "the intro");
    assert!(
        p1.contains("<legend>Do you visit the park? <span class=\"required\">(required)</span></legend>"),
        "{p1}"
    );
    assert!(
        p1.contains("aria-describedby=\"q-visit-hint\"") && p1.contains("id=\"q-visit-hint\""),
        "{p1}"
    );
    assert!(
        p1.contains("type=\"radio\" id=\"q-visit\" name=\"a.visit\" value=\"yes\""),
        "{p1}"
    );
    assert!(
        p1.contains("value=\"other\"") && p1.contains("name=\"a.visit.other\""),
        "{p1}"
    );
    assert!(
        !p1.contains("a.uses") && !p1.contains("a.often"),
        "split before the condition"
    );

    // Nothing chosen: an error beside the question and a summary linking to it.
    let (s, e) = b.submit(&p1, &[]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.contains("<title>Error: "), "{e}");
    assert!(
        e.contains("href=\"#q-visit\"") && e.contains("id=\"q-visit-error\""),
        "{e}"
    );
    assert!(e.contains("Do you visit the park? – answer this question"), "{e}");
    assert!(e.contains("aria-describedby=\"q-visit-hint q-visit-error\""), "{e}");
    // "Other" without saying what: the choice is kept.
    let (s, e) = b.submit(&p1, &[("a.visit", "other")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.contains("say what your other answer is"), "{e}");
    assert!(e.contains("value=\"other\" checked"), "{e}");

    // Yes: the follow-up page shows the condition's question, with the rest of the section.
    let (s, p2) = b.submit(&p1, &[("a.visit", "yes")]).await;
    assert_eq!(s, StatusCode::OK, "{p2}");
    assert_eq!(h1(&p2), "Your visits");
    assert!(!p2.contains("About how you use the park."), "the intro once");
    assert!(
        p2.contains("type=\"checkbox\" id=\"q-uses\" name=\"a.uses\" value=\"walk\""),
        "{p2}"
    );
    assert!(p2.contains("Select up to 2."), "{p2}");
    assert!(
        p2.contains("1 (Rarely)") && p2.contains("5 (Every day)"),
        "scale end labels"
    );
    // Too many choices: the core's rule, beside the field.
    let (s, e) = b
        .submit(
            &p2,
            &[
                ("a.uses", "walk"),
                ("a.uses", "play"),
                ("a.uses", "sport"),
                ("a.often", "4"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e.contains("href=\"#q-uses\"") && e.contains("id=\"q-uses-error\""),
        "{e}"
    );
    assert!(
        e.contains("value=\"sport\" checked") && e.contains("value=\"4\" checked"),
        "kept"
    );

    let (s, p3) = b
        .submit(
            &p2,
            &[
                ("a.uses", "walk"),
                ("a.uses", "other"),
                ("a.uses.other", "Picnics"),
                ("a.often", "4"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p3}");
    // The second section: `why_not` (shown for "no") is skipped by the server.
    assert_eq!(h1(&p3), "Your priorities");
    assert!(!p3.contains("a.why_not"), "{p3}");
    assert!(
        p3.contains("<select id=\"q-priorities\" name=\"a.priorities.lights\">"),
        "{p3}"
    );
    assert!(p3.contains("inputmode=\"numeric\" id=\"q-age\" name=\"a.age\""), "{p3}");
    assert!(p3.contains("Enter a number from 16 to 120."), "{p3}");
    assert!(
        p3.contains("name=\"a.last.day\"") && p3.contains("name=\"a.last.year\""),
        "{p3}"
    );
    assert!(p3.contains("<textarea id=\"q-ideas\" name=\"a.ideas\""), "{p3}");
    assert!(p3.contains("You can enter up to 100 characters."), "{p3}");
    assert!(
        p3.contains("<legend>It feels safe</legend>") && p3.contains("name=\"a.agree.clean\""),
        "{p3}"
    );

    // Errors of every kind the hub and the core find, each beside its field, answers kept.
    let bad = [
        ("a.priorities.lights", "1"),
        ("a.priorities.bins", "1"),
        ("a.priorities.seats", "2"),
        ("a.age", "forty"),
        ("a.last.day", "31"),
        ("a.last.month", "2"),
        ("a.last.year", "2026"),
        ("a.ideas", "Benches & <shade>"),
        ("a.agree.safe", "5"),
    ];
    let (s, e) = b.submit(&p3, &bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for (anchor, message) in [
        ("q-priorities", "give each option a different rank"),
        ("q-age", "enter a number"),
        ("q-last", "enter a real date"),
        ("q-agree", "choose an answer for every statement"),
    ] {
        assert!(e.contains(&format!("href=\"#{anchor}\"")), "{anchor}: {e}");
        assert!(e.contains(&format!("id=\"{anchor}-error\"")), "{anchor}: {e}");
        assert!(e.contains(message), "{message}: {e}");
    }
    assert!(
        e.contains("value=\"forty\"") && e.contains("Benches &#38; &#60;shade&#62;"),
        "kept, escaped"
    );
    assert!(e.contains("<option value=\"1\" selected>1</option>"), "ranks kept");
    // Out of range: the core's message.
    let mut fields = vec![
        ("a.priorities.lights", "2"),
        ("a.priorities.bins", "1"),
        ("a.priorities.seats", "3"),
        ("a.age", "200"),
        ("a.last.day", "1"),
        ("a.last.month", "5"),
        ("a.last.year", "2026"),
        ("a.ideas", "More benches"),
        ("a.agree.safe", "5"),
        ("a.agree.clean", "3"),
    ];
    let (s, e) = b.submit(&p3, &fields).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.contains("Your age – must be from 16 to 120"), "{e}");
    fields[3] = ("a.age", "42");
    let (s, about) = b.submit(&e, &fields).await;
    assert_eq!(s, StatusCode::OK, "{about}");

    // The comments and monitoring page, then check your answers.
    assert!(
        about.contains("name=\"comments\"") && about.contains("name=\"m.sex\""),
        "{about}"
    );
    assert!(about.contains(">Continue</button>"), "{about}");
    let (s, check) = b
        .submit(&about, &[("comments", "Keep it green"), ("m.sex", "female")])
        .await;
    assert_eq!(s, StatusCode::OK, "{check}");
    assert_eq!(h1(&check), "Check your answers before sending your response");
    assert_eq!(
        check.matches("<h2>Your visits</h2>").count(),
        1,
        "a follow-up page joins its section"
    );
    for shown in [
        "<p>Yes</p>",
        "<p>Walking</p>",
        "<p>Other: Picnics</p>",
        "<p>4</p>",
        "<p>1. Bins</p>",
        "<p>2. Lighting</p>",
        "<p>42</p>",
        "<p>1 May 2026</p>",
        "<p>More benches</p>",
        "<p>It feels safe: 5 (Agree)</p>",
        "<p>Keep it green</p>",
        "<p>Female</p>",
    ] {
        assert!(check.contains(shown), "{shown} in {check}");
    }
    assert!(
        check.contains(
            "name=\"change\" value=\"0\">Change<span class=\"visually-hidden\"> Do you visit the park?</span>"
        ),
        "{check}"
    );

    // Change the first answer to "no": `uses` is hidden (its answer dropped) and `why_not`
    // shown, so its page is asked, filled in with the answers already given.
    let (s, again) = b.submit(&check, &[("change", "0")]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h1(&again), "Your visits");
    assert!(again.contains("value=\"yes\" checked"), "{again}");
    let (s, p3) = b.submit(&again, &[("a.visit", "no")]).await;
    assert_eq!(s, StatusCode::OK, "{p3}");
    assert_eq!(h1(&p3), "Your priorities");
    assert!(p3.contains("name=\"a.why_not\""), "{p3}");
    assert!(p3.contains("value=\"42\""), "answers kept: {p3}");
    fields.push(("a.why_not", "Too far away"));
    let (s, check) = b.submit(&p3, &fields).await;
    assert_eq!(s, StatusCode::OK, "{check}");
    assert_eq!(h1(&check), "Check your answers before sending your response");
    assert!(
        check.contains("<p>Too far away</p>") && check.contains("<p>No</p>"),
        "{check}"
    );
    assert!(!check.contains("Walking") && !check.contains("Picnics"), "{check}");

    // Send; sending again stores nothing more.
    let (s, thanks) = b.submit(&check, &[("send", "1")]).await;
    assert_eq!(s, StatusCode::OK, "{thanks}");
    assert_eq!(h1(&thanks), "Response received");
    let (_, twice) = b.submit(&check, &[("send", "1")]).await;
    assert_eq!(reference(&thanks), reference(&twice));

    // Stored exactly as entered (read by an officer through the staff API).
    let rid = reference(&thanks);
    let (s, stored) = app
        .at(
            &later,
            Method::GET,
            &format!("/api/v1/consultations/{id}/responses/{rid}"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{stored}");
    let mut answers = stored["answers"].clone();
    assert_eq!(answers["age"].as_f64(), Some(42.0));
    answers.as_object_mut().unwrap().remove("age");
    assert_eq!(
        answers,
        json!({
            "visit": "no", "often": 4, "why_not": "Too far away", "priorities": ["bins", "lights", "seats"],
            "last": "2026-05-01", "ideas": "More benches", "agree": { "safe": 5, "clean": 3 }
        })
    );
    assert_eq!(stored["comments"], "Keep it green");
    assert_eq!(stored["channel"], "online");
    let (_, list) = app
        .at(
            &later,
            Method::GET,
            &format!("/api/v1/consultations/{id}/responses"),
            Some(&tamworth),
            None,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");

    // Tampering with the carried answers gains nothing: the core checks them when sending, and
    // the page of the question at fault is shown with its error.
    let forged = check.replace("&#34;often&#34;:4", "&#34;often&#34;:9");
    assert_ne!(forged, check, "the state carries the scale answer");
    let (s, e) = b.submit(&forged, &[("send", "1")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        e.contains("id=\"q-often-error\"") && e.contains("How often do you go? – must be"),
        "{e}"
    );
}

on_both!(hub_quick_poll);
async fn hub_quick_poll(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Bin colour poll", 10, 30), true)
        .await;
    let poll = json!({ "sections": [ { "title": "Poll", "questions": [
        { "key": "colour", "type": "single_choice", "text": "Which colour for the new bins?", "required": true,
          "options": [ { "key": "green", "label": "Green" }, { "key": "blue", "label": "Blue" } ] } ] } ] });
    let (s, q) = app
        .put(
            &format!("/api/v1/consultations/{id}/questionnaire"),
            Some(&tamworth),
            poll,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{q}");

    // Before it opens: no poll.
    let mut early = Browser::new(&app.base);
    let (_, page) = early.get(&format!("/activities/{id}")).await;
    assert!(!page.contains("Which colour"), "{page}");

    // Open: one form on the activity's page, one button per option, no "respond" journey.
    let later = app.later(12).await;
    let mut b = Browser::new(&later);
    let res = reqwest::get(format!("{later}/activities/{id}")).await.unwrap();
    assert_eq!(
        res.headers()["cache-control"],
        "no-store",
        "a page with a form is not cached"
    );
    let (s, page) = b.get(&format!("/activities/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Which colour for the new bins?"), "{page}");
    assert!(
        page.contains("<button type=\"submit\" class=\"secondary\" name=\"a.colour\" value=\"blue\">Blue</button>"),
        "{page}"
    );
    assert!(!page.contains("Respond online"), "{page}");
    // One click.
    let (s, thanks) = b.submit(&page, &[("a.colour", "blue")]).await;
    assert_eq!(s, StatusCode::OK, "{thanks}");
    assert_eq!(h1(&thanks), "Response received");
    assert!(!thanks.contains("name=\"m.sex\""), "no monitoring step");
    let (_, twice) = b.submit(&page, &[("a.colour", "blue")]).await;
    assert_eq!(reference(&thanks), reference(&twice));
    // Another resident, another click.
    let mut other = Browser::new(&later);
    let (_, page) = other.get(&format!("/activities/{id}")).await;
    let (s, _) = other.submit(&page, &[("a.colour", "green")]).await;
    assert_eq!(s, StatusCode::OK);
    // A value that is no option: nothing stored.
    let (s, e) = other.submit(&page, &[("a.colour", "purple")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    let (_, list) = app
        .at(
            &later,
            Method::GET,
            &format!("/api/v1/consultations/{id}/responses"),
            Some(&tamworth),
            None,
        )
        .await;
    let mut chosen: Vec<Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["answers"].clone())
        .collect();
    chosen.sort_by_key(|a| a.to_string());
    assert_eq!(chosen, [json!({ "colour": "blue" }), json!({ "colour": "green" })]);

    // Closed: no poll, and no figures beyond what other pages show.
    let closed = app.later(45).await;
    let (_, page) = Browser::new(&closed).get(&format!("/activities/{id}")).await;
    assert!(!page.contains("a.colour") && !page.contains("Blue"), "{page}");
}
