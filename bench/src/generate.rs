//! A synthetic register with realistic vocabulary: council services, activity kinds, English
//! place names, counties with districts, stakeholder groups and dates over ten years.

use chrono::{Duration, NaiveDate};
use consult_core::{Area, AreaCode, AreaHierarchy, ConsultationId, OverlapSubject, Slug, Status};
use uuid::Uuid;

/// A small, fast, deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub const TOPICS: &[&str] = &[
    "budget",
    "council tax",
    "waste",
    "recycling",
    "parks",
    "open spaces",
    "libraries",
    "transport",
    "buses",
    "roads",
    "cycling",
    "walking",
    "housing",
    "tenants",
    "social care",
    "adult care",
    "children's services",
    "schools",
    "planning",
    "local plan",
    "parking",
    "leisure",
    "sport",
    "community safety",
    "antisocial behaviour",
    "youth",
    "health",
    "wellbeing",
    "climate",
    "air quality",
    "flooding",
    "town centre",
    "regeneration",
    "markets",
    "licensing",
    "allotments",
    "cemeteries",
    "street lighting",
    "grants",
    "equality",
    "customer services",
    "highways",
    "public toilets",
    "dog fouling",
    "noise",
    "homelessness",
    "carers",
    "dementia",
    "digital services",
];
pub const KINDS: &[&str] = &[
    "consultation",
    "survey",
    "review",
    "strategy",
    "proposals",
    "options",
    "changes",
    "plan",
    "listening exercise",
    "panel wave",
    "workshops",
    "engagement",
    "charging policy",
    "service redesign",
    "priorities",
];
pub const PREFIX: &[&str] = &[
    "Ash", "Brook", "Castle", "Dun", "East", "Fair", "Green", "High", "Kings", "Long", "Mill", "North", "Oak",
    "Queens", "Rother", "South", "Stan", "Tam", "West", "Wood",
];
pub const SUFFIX: &[&str] = &[
    "bury", "field", "ford", "ham", "ley", "minster", "ton", "wick", "worth", "by",
];
const PHRASES: &[&str] = &[
    "Tell us what you think about",
    "We are proposing changes to",
    "Help us shape the future of",
    "We want to understand how you use",
    "Have your say on our plans for",
    "Share your experience of",
];
const GROUPS: &[&str] = &[
    "residents",
    "council_tax_payers",
    "service_users",
    "businesses",
    "voluntary_and_community",
    "tenants",
    "children_and_young_people",
    "older_people",
    "carers",
    "disabled_people",
    "faith_groups",
    "staff",
];

fn place(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(PREFIX), rng.pick(SUFFIX))
}

/// 30 counties with 10 districts each.
pub fn areas() -> (Vec<Area>, AreaHierarchy) {
    let mut out = Vec::new();
    for c in 0..30u32 {
        let county = AreaCode::parse(&format!("E10{:06}", c + 1)).unwrap();
        out.push(Area {
            code: county.clone(),
            name: format!("County {c}"),
            parent: None,
        });
        for d in 0..10u32 {
            out.push(Area {
                code: AreaCode::parse(&format!("E07{:06}", c * 10 + d + 1)).unwrap(),
                name: format!("District {c}-{d}"),
                parent: Some(county.clone()),
            });
        }
    }
    let h = AreaHierarchy::new(out.clone());
    (out, h)
}

/// One synthetic activity.
pub fn subject(rng: &mut Rng, n: u64, areas: &[Area]) -> OverlapSubject {
    let t1 = *rng.pick(TOPICS);
    let t2 = *rng.pick(TOPICS);
    let p = place(rng);
    let year = 2020 + rng.below(10);
    let title = match rng.below(3) {
        0 => format!("{p} {t1} {} {year}", rng.pick(KINDS)),
        1 => format!("{} {} for {p}", capitalise(t1), rng.pick(KINDS)),
        _ => format!("{} and {t2} {}", capitalise(t1), rng.pick(KINDS)),
    };
    let summary = format!(
        "{} {t1} and {t2} in {p}. {} {t2}.",
        rng.pick(PHRASES),
        rng.pick(PHRASES)
    );
    let opens = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + Duration::days(rng.below(3650) as i64);
    let closes = opens + Duration::days(14 + rng.below(100) as i64);
    let groups = (0..1 + rng.below(3)).map(|_| (*rng.pick(GROUPS)).to_owned()).collect();
    let area = rng.pick(areas).code.clone();
    OverlapSubject {
        id: ConsultationId(Uuid::from_u64_pair(0, n)),
        organisation: Slug::parse("bench").unwrap(),
        title,
        summary,
        topics: vec![t1.to_owned(), t2.to_owned()],
        groups,
        areas: vec![area],
        opens_on: opens,
        closes_on: closes,
        status: if rng.below(10) == 0 {
            Status::ResultsPublished
        } else {
            Status::Approved
        },
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// An activity recorded as approved by `organisation` at `now`, as the benchmarks load them.
pub fn approved(
    organisation: consult_core::OrganisationId,
    plan: consult_core::ConsultationPlan,
    now: chrono::DateTime<chrono::Utc>,
) -> consult_core::Consultation {
    consult_core::Consultation {
        id: ConsultationId(Uuid::now_v7()),
        organisation_id: organisation,
        plan,
        recorded_status: Status::Approved,
        version: 1,
        created_at: now,
        updated_at: now,
        status_history: vec![],
        approval: None,
    }
}
