//! Staff exports of responses: CSV and xlsx over HTTP and through the CLI, read back with other
//! readers (the `csv` crate, calamine) and checked row by row against what the test sent.

use calamine::{Data, DataType as _, Reader as _};
use consult_tests::{TestApp, consultation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The response's own columns, then each question's parts, in questionnaire order: written
/// here from the questionnaire's JSON, not from the server's layout.
fn expected_header(questionnaire: &Value) -> Vec<String> {
    let mut h: Vec<String> = [
        "_response_id",
        "_received_at",
        "_channel",
        "_recorded_by",
        "_questionnaire_version",
        "_comments",
    ]
    .map(String::from)
    .to_vec();
    for q in questions(questionnaire) {
        let key = q["key"].as_str().unwrap();
        let parts = |field: &str| -> Vec<String> {
            q[field]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| format!("{key}.{}", o["key"].as_str().unwrap()))
                .collect()
        };
        let other = q["other"] == true;
        match q["type"].as_str().unwrap() {
            "single_choice" => {
                h.push(key.to_owned());
                if other {
                    h.push(format!("{key}.other"));
                }
            }
            "multiple_choice" => {
                h.extend(parts("options"));
                if other {
                    h.push(format!("{key}.other"));
                }
            }
            "ranking" => h.extend(parts("options")),
            "grid" => h.extend(parts("statements")),
            _ => h.push(key.to_owned()),
        }
    }
    h
}

fn questions(questionnaire: &Value) -> Vec<&Value> {
    questionnaire["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["questions"].as_array().unwrap())
        .collect()
}

/// OWASP's rule for text a spreadsheet could run: a leading apostrophe (numbers stay numbers).
fn safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) && (s.starts_with('\'') || s.parse::<f64>().is_err()) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn num(n: f64) -> String {
    n.to_string()
}

/// What each column of one response's row holds, as text, from the answers the test sent.
fn expected_row(questionnaire: &Value, sent: &Value, listed: &Value) -> BTreeMap<String, String> {
    let mut row = BTreeMap::new();
    let text = |v: &Value| v.as_str().map(safe).unwrap_or_default();
    row.insert("_response_id".into(), listed["id"].as_str().unwrap().to_owned());
    let received = chrono::DateTime::parse_from_rfc3339(listed["received_at"].as_str().unwrap()).unwrap();
    row.insert("_received_at".into(), received.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    row.insert("_channel".into(), listed["channel"].as_str().unwrap().to_owned());
    row.insert("_recorded_by".into(), text(&listed["entered_by"]));
    row.insert(
        "_questionnaire_version".into(),
        listed["questionnaire_version"]
            .as_u64()
            .map(|v| v.to_string())
            .unwrap_or_default(),
    );
    row.insert("_comments".into(), text(&sent["comments"]));
    let answers = &sent["answers"];
    for q in questions(questionnaire) {
        let key = q["key"].as_str().unwrap();
        let a = &answers[key];
        let option_keys = |field: &str| -> Vec<String> {
            q[field]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["key"].as_str().unwrap().to_owned())
                .collect()
        };
        let other_text = |v: &Value| -> Option<String> {
            match v {
                Value::Object(o) if o["option"] == "other" => Some(safe(o["text"].as_str().unwrap())),
                Value::Array(items) => items.iter().find_map(|i| i.get("text")?.as_str().map(safe)),
                _ => None,
            }
        };
        match q["type"].as_str().unwrap() {
            "single_choice" => {
                let chosen = match a {
                    Value::String(s) => s.clone(),
                    Value::Object(_) => "other".into(),
                    _ => String::new(),
                };
                row.insert(key.into(), chosen);
                if q["other"] == true {
                    row.insert(format!("{key}.other"), other_text(a).unwrap_or_default());
                }
            }
            "multiple_choice" => {
                for o in option_keys("options") {
                    let cell = match a.as_array() {
                        Some(items) => num(if items.iter().any(|i| i == &json!(o)) { 1.0 } else { 0.0 }),
                        None => String::new(),
                    };
                    row.insert(format!("{key}.{o}"), cell);
                }
                if q["other"] == true {
                    row.insert(format!("{key}.other"), other_text(a).unwrap_or_default());
                }
            }
            "ranking" => {
                for o in option_keys("options") {
                    let rank = a
                        .as_array()
                        .and_then(|items| items.iter().position(|i| i == &json!(o)))
                        .map(|i| num((i + 1) as f64))
                        .unwrap_or_default();
                    row.insert(format!("{key}.{o}"), rank);
                }
            }
            "grid" => {
                for s in option_keys("statements") {
                    row.insert(format!("{key}.{s}"), a[&s].as_f64().map(num).unwrap_or_default());
                }
            }
            "scale" | "number" => {
                row.insert(key.into(), a.as_f64().map(num).unwrap_or_default());
            }
            _ => {
                row.insert(key.into(), text(a));
            }
        }
    }
    row
}

/// An xlsx cell as the CSV would hold it.
fn xlsx_text(cell: &Data, column: &str) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => num(*f),
        Data::Int(i) => i.to_string(),
        Data::DateTime(_) if column == "_received_at" => {
            cell.as_datetime().unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string()
        }
        Data::DateTime(_) => cell.as_date().unwrap().to_string(),
        other => panic!("unexpected cell {other:?} in {column}"),
    }
}

async fn raw(base: &str, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a CSV export starts with a UTF-8 byte order mark"
    );
    let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn read_xlsx(bytes: Vec<u8>) -> calamine::Xlsx<std::io::Cursor<Vec<u8>>> {
    calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap()
}

on_both!(staff_export_responses_as_csv_and_xlsx);
async fn staff_export_responses_as_csv_and_xlsx(app: &TestApp) {
    let (tamworth, police) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Park survey", 10, 30), true)
        .await;
    let questionnaire = consult_tests::park_questionnaire();
    let (s, q) = app
        .put(
            &format!("/api/v1/consultations/{id}/questionnaire"),
            Some(&tamworth),
            questionnaire.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{q}");
    let later = app.later(12).await;
    let path = format!("/api/v1/consultations/{id}/responses");
    let monitoring = json!({ "sex": "female", "ethnic_group": "indian", "religion": "prefer_not_to_say" });
    let sent = [
        json!({ "comments": "=HYPERLINK(\"http://evil\")", "monitoring": monitoring, "answers": {
            "visit": "yes", "uses": ["walk", "play", { "option": "other", "text": "@Picnics" }], "satisfaction": 4,
            "priorities": ["bins", "lights", "seats"], "age": 42.5, "last": "2026-05-01",
            "ideas": "More benches, \"please\"\nand lights", "agree": { "safe": 5, "clean": 3 } } }),
        json!({ "comments": "+44 1827 709709", "answers": {
            "visit": { "option": "other", "text": "-rarely" }, "uses": ["play"], "satisfaction": 1,
            "priorities": ["seats", "bins", "lights"], "ideas": "Diolch yn fawr: ŵ ŷ", "agree": { "safe": 1, "clean": 2 } } }),
        json!({ "answers": { "visit": "no", "age": 17, "ideas": "'quoted" }, "monitoring": monitoring }),
        json!({ "comments": "Nothing answered", "monitoring": monitoring }),
    ];
    let mut ids = Vec::new();
    for body in &sent {
        let (s, r) = app.at(&later, Method::POST, &path, None, Some(body.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    let paper = json!({ "comments": "Posted form", "channel": "paper", "answers": { "satisfaction": 5 } });
    let (s, r) = app
        .at(&later, Method::POST, &path, Some(&tamworth), Some(paper.clone()))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    ids.push(r["id"].as_str().unwrap().to_owned());
    let sent: Vec<Value> = sent.into_iter().chain([paper]).collect();
    let (s, listed) = app.at(&later, Method::GET, &path, Some(&tamworth), None).await;
    assert_eq!(s, StatusCode::OK, "{listed}");
    let listed = listed["items"].as_array().unwrap().clone();
    assert_eq!(listed.len(), sent.len());
    let expected: Vec<BTreeMap<String, String>> = sent
        .iter()
        .zip(&listed)
        .map(|(s, l)| expected_row(&questionnaire, s, l))
        .collect();
    let header = expected_header(&questionnaire);
    let export = format!("{path}/export");

    // CSV: header of column keys, then a row per response in the order received.
    let res = raw(&app.base, &export, Some(&tamworth)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("responses-{id}.csv"))
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let bytes = res.bytes().await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains("\r\n"), "RFC 4180 line ends");
    let (csv_header, csv_rows) = read_csv(&bytes);
    assert_eq!(csv_header, header);
    assert_eq!(csv_rows.len(), sent.len());
    for (i, row) in csv_rows.iter().enumerate() {
        let got: BTreeMap<String, String> = header.iter().cloned().zip(row.iter().cloned()).collect();
        assert_eq!(got, expected[i], "CSV row {i}");
    }
    // Formula-like text is neutralised, numbers are not; never monitoring answers.
    assert_eq!(csv_rows[0][5], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(csv_rows[1][5], "'+44 1827 709709");
    for category in ["female", "indian", "prefer_not_to_say", "sex", "ethnic"] {
        assert!(!text.contains(category), "{category} in the export");
    }
    assert!(text.contains("Diolch yn fawr: ŵ ŷ"));

    // xlsx, as a coordinator: the same rows, read by calamine; a sheet for the grid.
    let res = raw(&app.base, &format!("{export}?format=xlsx"), Some(&app.coordinator)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut book = read_xlsx(res.bytes().await.unwrap().to_vec());
    assert_eq!(book.sheet_names(), ["responses", "agree", "questions"]);
    let sheet = book.worksheet_range("responses").unwrap();
    let mut rows = sheet.rows();
    let xlsx_header: Vec<String> = rows.next().unwrap().iter().map(|c| xlsx_text(c, "")).collect();
    assert_eq!(xlsx_header, header);
    let body: Vec<_> = rows.collect();
    assert_eq!(body.len(), sent.len());
    for (i, row) in body.iter().enumerate() {
        let got: BTreeMap<String, String> = header
            .iter()
            .cloned()
            .zip(row.iter().zip(&header).map(|(c, k)| xlsx_text(c, k)))
            .collect();
        assert_eq!(got, expected[i], "xlsx row {i}");
    }
    // Numbers are numbers and dates are dates in the workbook.
    let col = |k: &str| header.iter().position(|h| h == k).unwrap();
    assert!(matches!(body[0][col("satisfaction")], Data::Float(_)));
    assert!(matches!(body[0][col("last")], Data::DateTime(_)));
    // The grid's sheet: the responses that answered it.
    let grid = book.worksheet_range("agree").unwrap();
    let grid_rows: Vec<Vec<String>> = grid
        .rows()
        .map(|r| r.iter().map(|c| xlsx_text(c, "")).collect())
        .collect();
    assert_eq!(grid_rows[0], ["_response_id", "safe", "clean"]);
    let answered: Vec<Vec<String>> = sent
        .iter()
        .zip(&ids)
        .filter(|(s, _)| s["answers"]["agree"].is_object())
        .map(|(s, id)| {
            vec![
                id.clone(),
                num(s["answers"]["agree"]["safe"].as_f64().unwrap()),
                num(s["answers"]["agree"]["clean"].as_f64().unwrap()),
            ]
        })
        .collect();
    assert_eq!(grid_rows[1..], answered[..]);
    // The questions sheet names every column with its question's text.
    let questions_sheet = book.worksheet_range("questions").unwrap();
    let described: Vec<(String, String)> = questions_sheet
        .rows()
        .skip(1)
        .map(|r| (xlsx_text(&r[1], ""), xlsx_text(&r[4], "")))
        .collect();
    for q in questions(&questionnaire) {
        let key = q["key"].as_str().unwrap();
        assert!(
            described
                .iter()
                .any(|(c, t)| (c == key || c.starts_with(&format!("{key}."))) && t == q["text"].as_str().unwrap()),
            "{key} in {described:?}"
        );
    }

    // Who may: not the public, not another organisation; a bad format is named.
    assert_eq!(raw(&app.base, &export, None).await.status(), StatusCode::UNAUTHORIZED);
    let s = raw(&app.base, &export, Some(&police)).await.status();
    assert!(s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND, "{s}");
    let (s, p) = app.get(&format!("{export}?format=pdf"), Some(&tamworth)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p.to_string().contains("format"), "{p}");
    let (s, _) = app
        .get(
            &format!("/api/v1/consultations/{}/responses/export", uuid::Uuid::now_v7()),
            Some(&tamworth),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Each export is audited.
    let (s, audit) = app
        .get(&format!("/api/v1/consultations/{id}/audit"), Some(&tamworth))
        .await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    let exports = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "responses.export")
        .count();
    assert_eq!(exports, 2, "{audit}");

    // The CLI writes the same files.
    let dir = tempfile::tempdir().unwrap();
    let csv_file = dir.path().join("out.csv");
    let out = app.cli(&[
        "responses",
        "export",
        &id.to_string(),
        "--output",
        csv_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&csv_file).unwrap(), bytes.to_vec());
    let xlsx_file = dir.path().join("out.xlsx");
    let out = app.cli(&[
        "responses",
        "export",
        &id.to_string(),
        "--format",
        "xlsx",
        "--output",
        xlsx_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("exported {} responses", sent.len())));
    let mut book = read_xlsx(std::fs::read(&xlsx_file).unwrap());
    let sheet = book.worksheet_range("responses").unwrap();
    assert_eq!(sheet.rows().count(), sent.len() + 1);
    let ids_col: Vec<String> = sheet.rows().skip(1).map(|r| xlsx_text(&r[0], "")).collect();
    assert_eq!(ids_col, ids);
    // To standard output.
    let out = app.cli(&["responses", "export", &id.to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, bytes.to_vec());
    let out = app.cli(&["responses", "export", &id.to_string(), "--format", "pdf"]);
    assert_eq!(out.status.code(), Some(2));
}

on_both!(export_pages_through_many_responses);
async fn export_pages_through_many_responses(app: &TestApp) {
    // More responses than one page of the export (1,000), imported in one go; no questionnaire:
    // the response's own columns only.
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Big survey", -2, 30), true)
        .await;
    let n = 2_345;
    let mut csv_text = String::from("comments\n");
    for i in 0..n {
        csv_text.push_str(&format!("reply {i}\n"));
    }
    let (s, r) = app
        .post(
            &format!("/api/v1/consultations/{id}/responses/import"),
            Some(&tamworth),
            json!({ "csv": csv_text, "mapping": { "comments": "comments", "channel": "paper" } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let res = raw(
        &app.base,
        &format!("/api/v1/consultations/{id}/responses/export"),
        Some(&tamworth),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (header, rows) = read_csv(&res.bytes().await.unwrap());
    assert_eq!(header.len(), 6);
    assert_eq!(rows.len(), n);
    let mut comments: Vec<String> = rows.iter().map(|r| r[5].clone()).collect();
    comments.sort();
    let mut want: Vec<String> = (0..n).map(|i| format!("reply {i}")).collect();
    want.sort();
    assert_eq!(comments, want);
    let ids: Vec<&String> = rows.iter().map(|r| &r[0]).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), n, "every response once");
}

on_both!(coded_themes_are_columns_of_the_export);
async fn coded_themes_are_columns_of_the_export(app: &TestApp) {
    let (tamworth, _) = app.seed().await;
    let id = app.park_survey(&tamworth, "Park survey", 1, 30).await;
    let open = app.later(2).await;
    let path = format!("/api/v1/consultations/{id}/responses");
    let mut ids = Vec::new();
    for body in [
        json!({ "answers": { "ideas": "Cheaper parking" } }),
        json!({ "answers": { "ideas": "Open later" } }),
        json!({ "answers": { "visit": "yes" } }),
    ] {
        let (s, r) = app.at(&open, Method::POST, &path, None, Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    let themes = format!("/api/v1/consultations/{id}/themes");
    for body in [
        json!({ "key": "transport", "label": "Transport" }),
        json!({ "key": "parking", "label": "Parking", "parent": "transport" }),
        json!({ "key": "hours", "label": "Opening hours" }),
    ] {
        let (s, r) = app.at(&open, Method::POST, &themes, Some(&tamworth), Some(body)).await;
        assert!(s.is_success(), "{r}");
    }
    let code = json!({ "question": "ideas", "themes": ["parking"] });
    let (s, r) = app
        .at(
            &open,
            Method::PUT,
            &format!("{path}/{}/codes", ids[0]),
            Some(&tamworth),
            Some(code),
        )
        .await;
    assert!(s.is_success(), "{r}");
    let res = raw(&open, &format!("{path}/export"), Some(&tamworth)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (header, rows) = read_csv(&res.bytes().await.unwrap());
    let col = |k: &str| {
        header
            .iter()
            .position(|h| h == k)
            .unwrap_or_else(|| panic!("{k} in {header:?}"))
    };
    let ideas = col("ideas");
    // Each theme follows the free-text question it codes; a parent counts its nested themes.
    assert_eq!(
        &header[ideas..ideas + 4],
        [
            "ideas",
            "ideas.theme.hours",
            "ideas.theme.transport",
            "ideas.theme.parking"
        ]
    );
    let cells = |row: usize| -> Vec<&str> { rows[row][ideas + 1..ideas + 4].iter().map(String::as_str).collect() };
    assert_eq!(cells(0), ["0", "1", "1"], "coded parking (under transport)");
    assert_eq!(cells(1), ["0", "0", "0"], "answered, not coded");
    assert_eq!(cells(2), ["", "", ""], "not answered");
}

on_both!(exports_at_once_are_limited);
async fn exports_at_once_are_limited(app: &TestApp) {
    // Each export holds a database connection while it is downloaded: a process runs only
    // EXPORTS_AT_ONCE at once and refuses the next as busy (503 over HTTP), nothing done.
    let (tamworth, _) = app.seed().await;
    let id = app
        .register_activity(&tamworth, consultation("tamworth", "Held survey", -2, 30), true)
        .await;
    let id: consult_core::ConsultationId = consult_core::ConsultationId(id.parse().unwrap());
    let actor = consult_core::Actor {
        name: "Coordinator".into(),
        role: consult_core::Role::Coordinator,
        organisation: None,
        staff: None,
    };
    let one = consult_app::App::new(app.store.clone());
    let csv = consult_app::ExportFormat::Csv;
    let mut running = Vec::new();
    for _ in 0..consult_app::EXPORTS_AT_ONCE {
        running.push(one.export_responses(&actor, id, csv).await.unwrap());
    }
    let refused = one.export_responses(&actor, id, csv).await.unwrap_err();
    assert!(matches!(refused, consult_app::AppError::Busy(_)), "{refused:?}");
    // One read to its end (the empty activity's header, then nothing) and dropped: room again.
    let mut first = running.remove(0);
    while first.next_csv_chunk().await.unwrap().is_some() {}
    drop(first);
    let again = one.export_responses(&actor, id, csv).await;
    assert!(again.is_ok(), "{again:?}");
}
