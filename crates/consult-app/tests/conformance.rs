//! The application's caches and composition against the store, on both backends: the overlap
//! index and the residents' audience index catch up with every change and agree with the SQL
//! twin and the core rule; the demo data loads once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "../../consult-store/tests/support/mod.rs"]
mod support;

use chrono::Days;
use consult_app::audience::ResidentCache;
use consult_app::demo;
use consult_core::*;
use consult_store::{ConsultationFilter, Reader, Store};
use support::*;
use uuid::Uuid;

both!(demo_data_loads_once);
async fn demo_data_loads_once(store: Store, _url: String) {
    assert!(demo::load_if_empty(&store, day("2026-11-23"), now()).await.unwrap());
    assert!(!demo::load_if_empty(&store, day("2026-11-23"), now()).await.unwrap());
    let open = store
        .list_consultations(
            &ConsultationFilter {
                statuses: vec![Status::Open],
                ..Default::default()
            },
            &Reader::Public,
            day("2026-11-23"),
            &page(50),
        )
        .await
        .unwrap();
    assert!(open.items.len() >= 3);
    let orgs = store.list_organisations().await.unwrap();
    assert!(orgs.iter().any(|o| o.kind == OrganisationKind::Partner));
    // The budget consultation and the People's Panel wave run real questionnaires, answered by
    // every demo respondent (the required questions always, the conditional ones when shown).
    for (title, required, conditional) in [
        ("Budget and council tax consultation 2027/28", "priorities", None),
        (
            "People's Panel wave 3: parks and open spaces",
            "visit_often",
            Some("why_not"),
        ),
    ] {
        let c = open.items.iter().find(|c| c.plan.title() == title).unwrap();
        let q = store.questionnaire(c.id).await.unwrap().expect(title);
        assert!(q.questions().any(|q| q.key == "satisfaction") && q.questions().any(|q| q.key == "influence"));
        let counts = store.analysis_counts(c.id).await.unwrap();
        assert!(counts.respondents > 0);
        assert_eq!(counts.answered.get(required), Some(&counts.respondents), "{title}");
        let a = analyse(&q, &counts);
        if let Some(key) = conditional {
            // Shown only to those who visit less often or never.
            let often = a.questions.iter().find(|x| x.key == "visit_often").unwrap();
            let shown: u64 = often
                .options
                .iter()
                .flatten()
                .filter(|o| o.key == "less" || o.key == "never")
                .filter_map(|o| o.count)
                .sum();
            let answered = a.questions.iter().find(|x| x.key == key).unwrap().answered.unwrap();
            assert!(answered <= shown && answered > 0, "{answered} of {shown}");
        }
        // Every question of every type (free text and dates included) has answers to analyse.
        for x in &a.questions {
            assert!(x.answered.unwrap_or(0) > 0, "{title}: nobody answered {}", x.key);
        }
    }
}

/// A small deterministic generator (no seed file to keep): the same residents every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

both!(sql_index_and_core_agree_on_invitation_plans);
async fn sql_index_and_core_agree_on_invitation_plans(store: Store, _url: String) {
    let snap = seed(&store).await;
    let target = snap.consultation(
        "tamworth",
        "Budget consultation",
        "2026-01-01",
        "2026-12-31",
        Status::Open,
    );
    let others: Vec<Consultation> = (0..3)
        .map(|i| {
            snap.consultation(
                "tamworth",
                &format!("Earlier {i}"),
                "2025-01-01",
                "2025-12-31",
                Status::Closed,
            )
        })
        .collect();
    store
        .import_consultations(&[vec![target.clone()], others.clone()].concat(), &admin())
        .await
        .unwrap();
    let mut rng = Lcg(7);
    let codes = ["E10000028", "E07000199", "E07000243"];
    let mut residents = Vec::new();
    let mut people = Vec::new();
    for i in 0..80u128 {
        let pick = |rng: &mut Lcg, from: &[&str]| -> Vec<String> {
            from.iter()
                .filter(|_| rng.below(2) == 0)
                .map(|s| s.to_string())
                .collect()
        };
        let channels = match rng.below(5) {
            0 => vec![],
            1 => vec![ContactChannel::Post, ContactChannel::Email],
            _ => vec![ContactChannel::Email],
        };
        let resident = Resident {
            id: Uuid::from_u128(i + 1),
            email: Some(format!("r{i}@example.org")),
            phone: None,
            postal_address: Some(format!("{i} High Street")),
            interests: pick(&mut rng, &["budget", "parks"]),
            areas: pick(&mut rng, &codes)
                .iter()
                .map(|c| AreaCode::parse(c).unwrap())
                .collect(),
            groups: pick(&mut rng, &["residents", "tenants"]),
            channels,
            consent_at: Some(now()),
            // One in six never verified their contact: never matched, invited or counted.
            verified_at: (i % 6 != 5).then(now),
        };
        store.create_resident(&resident, now()).await.unwrap();
        if rng.below(8) == 0 {
            store.unsubscribe(resident.id, now()).await.unwrap();
        }
        residents.push(resident.id);
        people.push(resident);
    }
    // The server's path: the audience index, loaded now and caught up with the invitations
    // recorded below (and the rebuild of recent dates) before each plan. It reads every record
    // and keeps the verified ones.
    let cache = std::sync::Arc::new(ResidentCache::new());
    assert_eq!(cache.sync(&store).await.unwrap(), 80);
    let verified = people.iter().filter(|r| r.verified_at.is_some()).count();
    assert!(verified < 80);
    assert_eq!(cache.len(), verified);
    // Invitation histories: up to nine invitations each, over two years, some to the target.
    let start = day("2024-06-01");
    let mut rounds = Vec::new();
    for round in 0..12u64 {
        let on = start + Days::new(round * 61 + rng.below(30));
        rounds.push(on);
        let invited: Vec<(Uuid, ContactChannel)> = residents
            .iter()
            .filter(|_| rng.below(3) == 0)
            .map(|id| (*id, ContactChannel::Email))
            .collect();
        let activity = if round == 11 {
            &target
        } else {
            &others[(round % 3) as usize]
        };
        let at = on.and_hms_opt(10, 0, 0).unwrap().and_utc();
        store
            .record_invitations(activity.id, &invited, &Default::default(), &admin(), at)
            .await
            .unwrap();
    }
    let areas: Vec<AreaCode> = ["E10000028", "E07000199"]
        .iter()
        .map(|c| AreaCode::parse(c).unwrap())
        .collect();
    let topics = vec!["budget".to_owned()];
    let groups = vec!["residents".to_owned()];
    let everywhere: Vec<AreaCode> = vec![];
    let people = std::sync::Arc::new(people);
    let check = |rebuilt: bool| {
        let people = people.clone();
        let store = store.clone();
        let cache = cache.clone();
        let (areas, topics, groups, everywhere, target, rounds) = (
            areas.clone(),
            topics.clone(),
            groups.clone(),
            everywhere.clone(),
            target.clone(),
            rounds.clone(),
        );
        let mut rng = Lcg(if rebuilt { 11 } else { 13 });
        async move {
            let mut compared = std::collections::BTreeMap::new();
            for case in 0..90 {
                let rules = FatigueRules {
                    max_contacts: 1 + rng.below(6) as u32,
                    window_days: 30 + rng.below(700) as u32,
                    min_gap_days: rng.below(30) as u32,
                    max_concurrent: 3,
                };
                // A third of the days put an invitation exactly on the first day of the window,
                // a third exactly on the minimum gap: the boundaries are where twins part.
                let on = rounds[rng.below(rounds.len() as u64) as usize];
                let today = match case % 3 {
                    0 => day("2024-09-01") + Days::new(rng.below(900)),
                    1 => on + Days::new(u64::from(rules.window_days) - 1),
                    _ => on + Days::new(u64::from(rules.min_gap_days)),
                };
                let matching = Matching {
                    areas: if case % 4 == 0 {
                        everywhere.clone()
                    } else {
                        areas.clone()
                    },
                    topics: topics.clone(),
                    groups: if case % 3 == 0 { vec![] } else { groups.clone() },
                };
                let candidates = store
                    .invitation_candidates(target.id, &matching, rules.window_start(today))
                    .await
                    .unwrap();
                // People, not records: exactly the verified residents the core rule matches.
                let matched: std::collections::BTreeSet<Uuid> = people
                    .iter()
                    .filter(|r| r.verified_at.is_some() && matching.matches_resident(r))
                    .map(|r| r.id)
                    .collect();
                assert_eq!(
                    candidates
                        .iter()
                        .map(|c| c.id)
                        .collect::<std::collections::BTreeSet<_>>(),
                    matched,
                    "case {case}"
                );
                let mut expected = plan_invitations(candidates, &rules, today);
                let mut got = store
                    .invitation_plan(target.id, &matching, &rules, today, true)
                    .await
                    .unwrap();
                expected.invited.sort();
                got.invited.sort();
                assert_eq!(
                    got, expected,
                    "rules {rules:?} on {today} (case {case}, rebuilt {rebuilt})"
                );
                let counts = store
                    .invitation_plan(target.id, &matching, &rules, today, false)
                    .await
                    .unwrap();
                assert_eq!(counts.excluded, expected.excluded);
                assert!(counts.invited.is_empty());
                let mut indexed = cache.plan(&store, target.id, &matching, &rules, today).await.unwrap();
                indexed.invited.sort();
                assert_eq!(indexed, expected, "index: rules {rules:?} on {today} (case {case})");
                for (reason, n) in expected.excluded {
                    *compared.entry(reason).or_insert(0) += n;
                }
            }
            // Every reason was exercised, so the agreement means something.
            assert_eq!(compared.len(), 5, "{compared:?}");
        }
    };
    check(false).await;
    store.rebuild_recent_invitations().await.unwrap();
    check(true).await;
}

both!(the_audience_index_catches_up_with_the_register);
/// The audience index catches up with every kind of change to the residents' register made
/// after it was built: registrations, withdrawn consent, deletions and recorded invitations.
async fn the_audience_index_catches_up_with_the_register(store: Store, _url: String) {
    let snap = seed(&store).await;
    let target = snap.consultation("tamworth", "Parks strategy", "2026-01-01", "2026-12-31", Status::Open);
    store
        .import_consultations(std::slice::from_ref(&target), &admin())
        .await
        .unwrap();
    let tamworth = AreaCode::parse("E07000199").unwrap();
    let resident = |n: u128| Resident {
        id: Uuid::from_u128(n),
        email: Some(format!("r{n}@example.org")),
        phone: None,
        postal_address: None,
        interests: vec!["parks".into()],
        areas: vec![tamworth.clone()],
        groups: vec![],
        channels: vec![ContactChannel::Email],
        consent_at: Some(now()),
        verified_at: Some(now()),
    };
    let at = |minutes: i64| now() + chrono::Duration::minutes(minutes);
    for n in 1..=4 {
        store.create_resident(&resident(n), at(0)).await.unwrap();
    }
    let cache = ResidentCache::new();
    assert_eq!(cache.sync(&store).await.unwrap(), 4);
    let matching = Matching {
        areas: vec![tamworth.clone()],
        topics: vec!["parks".into()],
        groups: vec![],
    };
    let rules = FatigueRules::default();
    let today = at(0).date_naive();
    let plan = cache.plan(&store, target.id, &matching, &rules, today).await.unwrap();
    assert_eq!(plan.invited.len(), 4);
    // Later: one registers, one withdraws consent, one is deleted, one is invited.
    store.create_resident(&resident(5), at(10)).await.unwrap();
    store.unsubscribe(Uuid::from_u128(2), at(11)).await.unwrap();
    assert!(store.delete_resident(Uuid::from_u128(3), at(12)).await.unwrap());
    store
        .record_invitations(
            target.id,
            &[(Uuid::from_u128(4), ContactChannel::Email)],
            &Default::default(),
            &admin(),
            at(13),
        )
        .await
        .unwrap();
    let plan = cache.plan(&store, target.id, &matching, &rules, today).await.unwrap();
    assert_eq!(cache.len(), 4);
    let invited: Vec<Uuid> = plan.invited.iter().map(|(id, _)| *id).collect();
    assert_eq!(invited, [Uuid::from_u128(1), Uuid::from_u128(5)]);
    assert_eq!(plan.excluded.get(&Exclusion::NoConsent), Some(&1));
    assert_eq!(plan.excluded.get(&Exclusion::AlreadyInvited), Some(&1));
    // Another activity sees resident 4's new invitation through the minimum gap.
    let other = snap.consultation("tamworth", "Play areas", "2026-01-01", "2026-12-31", Status::Open);
    store
        .import_consultations(std::slice::from_ref(&other), &admin())
        .await
        .unwrap();
    let plan = cache.plan(&store, other.id, &matching, &rules, today).await.unwrap();
    assert_eq!(plan.excluded.get(&Exclusion::FatigueMinGap), Some(&1));
    // And agrees with a fresh index and with the database.
    let fresh = ResidentCache::new();
    fresh.sync(&store).await.unwrap();
    let mut again = fresh.plan(&store, other.id, &matching, &rules, today).await.unwrap();
    again.invited.sort();
    let mut plan = plan;
    plan.invited.sort();
    assert_eq!(again, plan);
    let mut sql = store
        .invitation_plan(other.id, &matching, &rules, today, true)
        .await
        .unwrap();
    sql.invited.sort();
    assert_eq!(sql, plan);
    // Nothing changed since: nothing is read again.
    assert_eq!(cache.sync(&store).await.unwrap(), 0);

    // Registrations pending verification: a new person, and resident 1's address again.
    let counts = |p: &InvitationPlan| p.invited.len() as u64 + p.excluded.values().sum::<u64>();
    let newcomer = Resident {
        verified_at: None,
        ..resident(6)
    };
    store.register_resident(&newcomer, at(20)).await.unwrap();
    let again = Resident {
        id: Uuid::from_u128(7),
        interests: vec!["parks".into(), "play".into()],
        verified_at: None,
        ..resident(1)
    };
    let again_key = store.register_resident(&again, at(21)).await.unwrap();
    let before = cache.plan(&store, other.id, &matching, &rules, today).await.unwrap();
    assert_eq!(counts(&before), 4, "pending registrations are nobody yet");
    assert_eq!(cache.len(), 4);
    let mut sql = store
        .invitation_plan(other.id, &matching, &rules, today, true)
        .await
        .unwrap();
    sql.invited.sort();
    let mut indexed = before.clone();
    indexed.invited.sort();
    assert_eq!(sql, indexed);
    // Verified: the newcomer is one more person; resident 1's address updates resident 1.
    let code = store.verification_code(newcomer.id).await.unwrap().unwrap();
    let v = store.verify_resident(&code, at(0), at(22)).await.unwrap().unwrap();
    assert_eq!((v.id, v.updated), (newcomer.id, false));
    let code = store.verification_code(again.id).await.unwrap().unwrap();
    let v = store.verify_resident(&code, at(0), at(23)).await.unwrap().unwrap();
    assert_eq!((v.id, v.updated), (Uuid::from_u128(1), true));
    assert!(
        store.verify_resident(&code, at(0), at(24)).await.unwrap().is_none(),
        "once"
    );
    let after = cache.plan(&store, other.id, &matching, &rules, today).await.unwrap();
    assert_eq!(counts(&after), 5);
    assert_eq!(cache.len(), 5);
    let one = store.resident(Uuid::from_u128(1), &again_key).await.unwrap().unwrap();
    assert_eq!(one.interests, ["parks", "play"]);
    // A pending registration past its time is purged, and the index never held it.
    let stale = Resident {
        id: Uuid::from_u128(8),
        email: Some("r8@example.org".into()),
        verified_at: None,
        ..resident(8)
    };
    store.register_resident(&stale, at(25)).await.unwrap();
    assert_eq!(store.purge_unverified(at(25), &admin(), at(30)).await.unwrap(), 1);
    assert_eq!(store.purge_unverified(at(25), &admin(), at(30)).await.unwrap(), 0);
    assert_eq!(cache.sync(&store).await.unwrap(), 1, "the removal is a change");
    assert_eq!(cache.len(), 5);
    let mut fresh = ResidentCache::new()
        .plan(&store, other.id, &matching, &rules, today)
        .await
        .unwrap();
    let mut sql = store
        .invitation_plan(other.id, &matching, &rules, today, true)
        .await
        .unwrap();
    let mut after = after;
    for p in [&mut fresh, &mut sql, &mut after] {
        p.invited.sort();
    }
    assert_eq!((&fresh, &sql), (&after, &after));
}

both!(the_overlap_index_reads_each_change_once);
/// The overlap index reads each change once: a bulk import is read at the next sync and never
/// again, an edit is read once, whatever the clocks of the writers say.
async fn the_overlap_index_reads_each_change_once(store: Store, _url: String) {
    let snap = seed(&store).await;
    let make = |n: usize| {
        (0..n)
            .map(|i| {
                snap.consultation(
                    "tamworth",
                    &format!("Parks review {i}"),
                    "2026-02-01",
                    "2026-03-31",
                    Status::Approved,
                )
            })
            .collect::<Vec<_>>()
    };
    let first = make(40);
    store.import_consultations(&first, &admin()).await.unwrap();
    let cache = consult_app::overlap::OverlapCache::new(OverlapConfig::default());
    assert_eq!(cache.sync(&store).await.unwrap(), 40);
    assert_eq!(cache.sync(&store).await.unwrap(), 0, "an import is read once");
    store.import_consultations(&make(3), &admin()).await.unwrap();
    assert_eq!(cache.sync(&store).await.unwrap(), 3);
    // An edit stamped with a time long past is still seen.
    let mut plan = first[0].plan.clone();
    let mut input = plan.to_input();
    input.title = Some("Play areas review".into());
    plan = ConsultationPlan::parse(input, snap.0.context()).unwrap();
    let old = "2020-01-01T00:00:00Z".parse().unwrap();
    store.update_plan(first[0].id, 1, &plan, &admin(), old).await.unwrap();
    assert_eq!(cache.sync(&store).await.unwrap(), 1);
    assert_eq!(cache.sync(&store).await.unwrap(), 0);
    assert_eq!(cache.len(), 43);
}
