//! `consult copy`: a whole SQLite deployment moved into a new PostgreSQL database, with counts
//! and checksums, and then the same answers from both.

use consult_app::demo;
use consult_store::{ConsultationFilter, PageRequest, Reader, Store, testing};
use consult_tests::{cli, test_today};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL variant: set CONSULT_TEST_POSTGRES_URL and run ignored tests"]
async fn a_deployment_moves_from_sqlite_to_postgres() {
    let pg = testing::require_postgres_url();
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("consult.db").display());
    let source = Store::connect(&sqlite_url).await.unwrap();
    let today = test_today();
    let now = today.and_hms_opt(9, 30, 0).unwrap().and_utc();
    assert!(demo::load_if_empty(&source, today, now).await.unwrap());
    // A resident with an invitation, and text that is awkward for any copy.
    let areas = consult_core::AreaHierarchy::new(source.list_areas().await.unwrap());
    let resident = consult_core::Resident::parse(
        uuid::Uuid::now_v7(),
        consult_core::ResidentInput {
            email: Some("ann@example.org".into()),
            postal_address: Some("1 \"Quoted\" Street,\n\tTamworth \\ <script>".into()),
            interests: vec!["parks".into()],
            areas: vec!["E07000199".into()],
            channels: vec!["email".into()],
            consent: Some(true),
            ..Default::default()
        },
        &areas,
        now,
    )
    .unwrap();
    source.create_resident(&resident, now).await.unwrap();
    let everything = |store: Store| async move {
        let page = PageRequest {
            limit: 500,
            cursor: None,
        };
        let mut items = store
            .list_consultations(&ConsultationFilter::default(), &Reader::Everything, today, &page)
            .await
            .unwrap()
            .items;
        items.sort_by_key(|c| c.id.0);
        let period = consult_core::Period::year(2026).unwrap();
        let app = consult_app::App::one_off(store.clone())
            .with_clock(consult_app::FixedClock(today.and_hms_opt(9, 30, 0).unwrap().and_utc()));
        let review = app.engagement_review(period, &Default::default()).await.unwrap();
        let mut audience = store.audience_changes(None).await.unwrap().changed;
        audience.sort_by_key(|a| a.id);
        (items, serde_json::to_value(review).unwrap(), audience)
    };
    let before = everything(source.clone()).await;
    source.close().await;

    let (target, schema) = testing::postgres_schema(&pg).await.unwrap();
    let target_url = testing::postgres_url_with_schema(&pg, &schema);
    let out = cli(&sqlite_url, &["copy", "--from", &sqlite_url, "--to", &target_url]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("counts and checksums agree"));
    let consultations = stdout
        .lines()
        .find(|l| l.starts_with("consultations "))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<usize>()
        .unwrap();
    assert_eq!(consultations, before.0.len());
    assert_eq!(
        everything(target.clone()).await,
        before,
        "the same register, review and residents"
    );
    let held = target.resident(resident.id, "wrong key").await.unwrap();
    assert!(held.is_none());

    // Copying again onto data is refused, and nothing changes.
    let again = cli(&sqlite_url, &["copy", "--from", &sqlite_url, "--to", &target_url]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds"));
    // The wrong way round is bad usage.
    let back = cli(&sqlite_url, &["copy", "--from", &target_url, "--to", &sqlite_url]);
    assert_eq!(back.status.code(), Some(2));
    target.close().await;
    testing::drop_postgres_schema(&pg, &schema).await.unwrap();
}
