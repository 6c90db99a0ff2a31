//! Example data drawn from the seeds, so a newcomer sees a populated register: the Staffordshire
//! partnership (the county and Tamworth borough inside it, with Tamworth's corporate programme),
//! and examples from Oxfordshire, Herefordshire and Stevenage. Dates are set relative to `today`
//! so there is always something open, something coming and something finished.

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use consult_core::{
    Actor, Area, AreaCode, AudienceInput, Consultation, ConsultationId, ConsultationInput, ConsultationPlan, CostInput,
    Feedback, FeedbackItem, Organisation, OrganisationId, OrganisationInput, Role, Status, StatusChange,
};
use consult_store::{Store, StoreError};
use uuid::Uuid;

const AREAS: &[(&str, &str, Option<&str>)] = &[
    ("E10000028", "Staffordshire", None),
    ("E07000199", "Tamworth", Some("E10000028")),
    ("E07000192", "Cannock Chase", Some("E10000028")),
    ("E10000025", "Oxfordshire", None),
    ("E07000178", "Oxford", Some("E10000025")),
    ("E06000019", "Herefordshire", None),
    ("E10000015", "Hertfordshire", None),
    ("E07000243", "Stevenage", Some("E10000015")),
];

const ORGANISATIONS: &[(&str, &str, &str, &[&str])] = &[
    (
        "staffordshire",
        "Staffordshire County Council",
        "council",
        &[
            "Corporate Policy and Performance",
            "Highways and Transport",
            "Adult Social Care",
            "Libraries",
        ],
    ),
    (
        "tamworth",
        "Tamworth Borough Council",
        "council",
        &[
            "Performance and Corporate Relations",
            "Democratic Services",
            "Environment and Waste",
            "Community Safety",
            "Housing",
        ],
    ),
    (
        "tamworth-strategic-partnership",
        "Tamworth Strategic Partnership",
        "partner",
        &["Community Engagement"],
    ),
    (
        "oxfordshire",
        "Oxfordshire County Council",
        "council",
        &["Corporate Consultation", "Adult Social Care", "Libraries", "Transport"],
    ),
    (
        "herefordshire-partnership",
        "Herefordshire Partnership",
        "partner",
        &["Research Team"],
    ),
    (
        "stevenage",
        "Stevenage Borough Council",
        "council",
        &["Communications and Engagement", "Regeneration", "Housing"],
    ),
];

/// One demo activity: where its dates sit relative to today and how far through its lifecycle
/// it has been moved.
struct Example {
    org: &'static str,
    service: &'static str,
    title: &'static str,
    summary: &'static str,
    level: &'static str,
    methods: &'static [&'static str],
    groups: &'static [&'static str],
    areas: &'static [&'static str],
    topics: &'static [&'static str],
    opens: i64,
    days: i64,
    cost: f64,
    /// Statuses it was moved through after draft, in order.
    path: &'static [Status],
}

const EXAMPLES: &[Example] = &[
    Example {
        org: "tamworth",
        service: "Performance and Corporate Relations",
        title: "Budget and council tax consultation 2027/28",
        summary: "Tell us which services matter most to you as we set next year's budget and council tax.",
        level: "consult",
        methods: &["online_survey", "questionnaire", "public_meeting"],
        groups: &["residents", "council_tax_payers", "businesses"],
        areas: &["E07000199"],
        topics: &["budget", "council tax"],
        opens: -10,
        days: 56,
        cost: 4500.0,
        path: &[Status::Submitted, Status::Approved],
    },
    Example {
        org: "tamworth",
        service: "Performance and Corporate Relations",
        title: "Place Survey 2027",
        summary: "The biennial survey of how residents feel about Tamworth as a place to live and the services they receive.",
        level: "research",
        methods: &["postal_survey", "online_survey"],
        groups: &["residents"],
        areas: &["E07000199"],
        topics: &["quality of life", "local services"],
        opens: 30,
        days: 84,
        cost: 18000.0,
        path: &[Status::Submitted, Status::Approved],
    },
    Example {
        org: "tamworth",
        service: "Performance and Corporate Relations",
        title: "People's Panel wave 3: parks and open spaces",
        summary: "This wave of the People's Panel asks members how they use Tamworth's parks and open spaces.",
        level: "research",
        methods: &["panel_survey", "postal_survey"],
        groups: &["residents"],
        areas: &["E07000199"],
        topics: &["parks", "open spaces"],
        opens: -5,
        days: 21,
        cost: 2200.0,
        path: &[Status::Submitted, Status::Approved],
    },
    Example {
        org: "tamworth",
        service: "Democratic Services",
        title: "Tamworth Listens 2027",
        summary: "Councillors hold local meetings in every ward to hear residents' priorities for their neighbourhood.",
        level: "involve",
        methods: &["local_area_meeting", "public_meeting"],
        groups: &["residents", "community_groups"],
        areas: &["E07000199"],
        topics: &["neighbourhoods"],
        opens: 45,
        days: 42,
        cost: 1500.0,
        path: &[Status::Submitted],
    },
    Example {
        org: "tamworth",
        service: "Environment and Waste",
        title: "Recycling and waste collection changes",
        summary: "Proposed changes to bin collection days and a new food waste service.",
        level: "consult",
        methods: &["online_survey", "leaflet", "exhibition"],
        groups: &["residents", "tenants"],
        areas: &["E07000199"],
        topics: &["recycling", "waste"],
        opens: -120,
        days: 70,
        cost: 6200.0,
        path: &[Status::Submitted, Status::Approved],
    },
    Example {
        org: "tamworth-strategic-partnership",
        service: "Community Engagement",
        title: "Community safety priorities 2027",
        summary: "The partnership asks residents and community groups which community safety issues should come first.",
        level: "consult",
        methods: &["community_forum", "online_survey", "feedback_form"],
        groups: &["residents", "voluntary_and_community", "partners"],
        areas: &["E07000199"],
        topics: &["community safety", "antisocial behaviour"],
        opens: 14,
        days: 42,
        cost: 3000.0,
        path: &[Status::Submitted, Status::Approved],
    },
    Example {
        org: "staffordshire",
        service: "Corporate Policy and Performance",
        title: "Staffordshire budget consultation 2027/28",
        summary: "The county council's proposals for next year's budget, including social care and highways spending.",
        level: "consult",
        methods: &["online_survey", "postal_survey", "focus_group"],
        groups: &["residents", "council_tax_payers"],
        areas: &["E10000028"],
        topics: &["budget", "council tax"],
        opens: -3,
        days: 63,
        cost: 12000.0,
        path: &[Status::Submitted, Status::Approved],
    },
    Example {
        org: "staffordshire",
        service: "Highways and Transport",
        title: "Local transport plan refresh",
        summary: "Early engagement on priorities for roads, buses, walking and cycling for the next ten years.",
        level: "involve",
        methods: &["co_design_workshop", "online_consultation", "exhibition"],
        groups: &["residents", "businesses", "partners"],
        areas: &["E10000028"],
        topics: &["transport", "roads"],
        opens: 60,
        days: 84,
        cost: 25000.0,
        path: &[],
    },
    Example {
        org: "oxfordshire",
        service: "Adult Social Care",
        title: "Adult social care charging policy",
        summary: "Proposed changes to how the council charges for care and support at home.",
        level: "consult",
        methods: &["online_survey", "questionnaire", "public_meeting", "advocacy_group"],
        groups: &["service_users", "carers", "older_people", "disabled_people"],
        areas: &["E10000025"],
        topics: &["social care", "charging"],
        opens: -200,
        days: 84,
        cost: 9000.0,
        path: &[Status::Submitted, Status::Approved, Status::ResultsPublished],
    },
    Example {
        org: "oxfordshire",
        service: "Libraries",
        title: "Library opening hours review",
        summary: "How should library opening hours change to match when people use them?",
        level: "consult",
        methods: &["online_survey", "feedback_form"],
        groups: &["residents", "service_users", "non_users"],
        areas: &["E07000178"],
        topics: &["libraries"],
        opens: 20,
        days: 56,
        cost: 2500.0,
        path: &[Status::Submitted, Status::Withdrawn],
    },
    Example {
        org: "herefordshire-partnership",
        service: "Research Team",
        title: "Joint residents' survey",
        summary: "One survey for all partners, replacing separate surveys by the council, health and police.",
        level: "research",
        methods: &["postal_survey", "online_survey", "telephone_survey"],
        groups: &["residents"],
        areas: &["E06000019"],
        topics: &["quality of life", "health", "community safety"],
        opens: -330,
        days: 56,
        cost: 30000.0,
        path: &[
            Status::Submitted,
            Status::Approved,
            Status::ResultsPublished,
            Status::Evaluated,
        ],
    },
    Example {
        org: "stevenage",
        service: "Regeneration",
        title: "Town centre regeneration: shape the plans",
        summary: "Work with us on the design of the new town square and bus interchange.",
        level: "involve",
        methods: &["co_design_workshop", "exhibition", "online_consultation"],
        groups: &["residents", "businesses", "children_and_young_people"],
        areas: &["E07000243"],
        topics: &["regeneration", "town centre"],
        opens: -20,
        days: 70,
        cost: 15000.0,
        path: &[Status::Submitted, Status::Approved],
    },
    Example {
        org: "stevenage",
        service: "Housing",
        title: "Tenant participation review",
        summary: "Tenants and the council decide together how tenants will be involved in running housing services.",
        level: "collaborate",
        methods: &["co_design_workshop", "involvement_network"],
        groups: &["tenants"],
        areas: &["E07000243"],
        topics: &["housing", "tenant involvement"],
        opens: 35,
        days: 90,
        cost: 5000.0,
        path: &[Status::Submitted, Status::Approved],
    },
];

fn shift(today: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        today.checked_add_days(Days::new(days as u64)).unwrap_or(today)
    } else {
        today.checked_sub_days(Days::new(days.unsigned_abs())).unwrap_or(today)
    }
}

/// One demo theme: (theme, you said, we did, we did not, because), empty meaning none.
type Theme = (&'static str, &'static str, &'static str, &'static str, &'static str);

/// Published "you said, we did" feedback of the demo activities whose results are out:
/// (title, [(theme, you said, we did, we did not, because)]), empty meaning none.
const FEEDBACK: &[(&str, &[Theme])] = &[
    (
        "Adult social care charging policy",
        &[
            (
                "Disability-related expenses",
                "The allowance for disability-related expenses is too low.",
                "Raised the standard allowance and added an individual assessment on request.",
                "",
                "",
            ),
            (
                "Phasing in",
                "Phase the new charges in over two years.",
                "",
                "Did not phase the charges in.",
                "Phasing would have left a gap the council cannot fund this year; hardship cases are reviewed individually.",
            ),
        ],
    ),
    (
        "Joint residents' survey",
        &[
            (
                "Community safety",
                "Antisocial behaviour in town centres is the top concern.",
                "Police and council set up joint town-centre patrols on Friday and Saturday evenings.",
                "",
                "",
            ),
            (
                "Bus services",
                "Restore the evening bus services cut last year.",
                "",
                "Did not restore the evening services.",
                "The routes are run commercially; the council is funding a demand-responsive service instead.",
            ),
        ],
    ),
];

/// Population of the demo areas with a baseline: (code, name, people, share White British).
/// Rounded from Census 2021 for the demo; import the real tables with `consult baseline import`.
const POPULATIONS: &[(&str, &str, u64, f64)] = &[
    ("E07000199", "Tamworth", 78_700, 0.91),
    ("E07000243", "Stevenage", 89_500, 0.71),
    ("E06000019", "Herefordshire", 187_100, 0.91),
    ("E10000025", "Oxfordshire", 725_300, 0.76),
];

/// A baseline for an area: age and sex shares typical of England, the ethnic mix from the
/// White British share.
fn demo_baseline(people: u64, white_british: f64) -> consult_core::BaselineCounts {
    let share = |shares: &[(&str, f64)]| -> std::collections::BTreeMap<String, u64> {
        shares
            .iter()
            .map(|(k, s)| ((*k).to_owned(), (people as f64 * s).round() as u64))
            .collect()
    };
    let rest = 1.0 - white_british;
    let mut b = consult_core::BaselineCounts::new();
    b.insert("sex".into(), share(&[("female", 0.51), ("male", 0.49)]));
    b.insert(
        "age_band".into(),
        share(&[
            ("under_16", 0.19),
            ("16-24", 0.10),
            ("25-34", 0.13),
            ("35-44", 0.12),
            ("45-54", 0.13),
            ("55-64", 0.13),
            ("65-74", 0.11),
            ("75+", 0.09),
        ]),
    );
    b.insert(
        "ethnic_group".into(),
        share(&[
            ("white_british", white_british),
            ("other_white", rest * 0.30),
            ("irish", rest * 0.03),
            ("indian", rest * 0.12),
            ("pakistani", rest * 0.08),
            ("bangladeshi", rest * 0.03),
            ("chinese", rest * 0.03),
            ("other_asian", rest * 0.05),
            ("african", rest * 0.10),
            ("caribbean", rest * 0.04),
            ("white_and_black_caribbean", rest * 0.06),
            ("white_and_asian", rest * 0.05),
            ("other_mixed", rest * 0.04),
            ("arab", rest * 0.01),
            ("any_other", rest * 0.02),
        ]),
    );
    b.insert(
        "disability".into(),
        share(&[
            ("limited_a_lot", 0.08),
            ("limited_a_little", 0.10),
            ("condition_not_limiting", 0.07),
            ("no_condition", 0.75),
        ]),
    );
    b
}

/// The satisfaction pair the council measures success by (`standard_questions`), as asked at
/// the end of the demo questionnaires.
const SATISFACTION_PAIR: &str = r#"
    { "key": "satisfaction", "type": "scale", "text": "How satisfied are you with this consultation?",
      "hint": "Think about how easy it was to take part and how clear the information was.",
      "scale": { "min": 1, "max": 5, "min_label": "Very dissatisfied", "max_label": "Very satisfied" } },
    { "key": "influence", "type": "scale", "text": "Do you feel you can influence decisions affecting your local area?",
      "scale": { "min": 1, "max": 5, "min_label": "Definitely not", "max_label": "Definitely" } }"#;

/// The demo activities that run a questionnaire (the budget consultation and the People's Panel
/// wave in the seeds, both open; the joint residents' survey, whose results are published), by
/// title, with the sections before the satisfaction pair.
const QUESTIONNAIRES: &[(&str, &str)] = &[
    (
        "Budget and council tax consultation 2027/28",
        r#"{ "title": "Your priorities",
      "intro": "We need to save £1.2 million next year. Tell us which services matter most to you.",
      "questions": [
        { "key": "priorities", "type": "ranking", "text": "Put these services in order of importance to you",
          "hint": "1 is the most important", "required": true,
          "options": [ { "key": "bins", "label": "Bin collections and recycling" },
                       { "key": "parks", "label": "Parks and open spaces" },
                       { "key": "housing", "label": "Housing and homelessness support" },
                       { "key": "leisure", "label": "Leisure and culture" },
                       { "key": "safety", "label": "Community safety" } ] },
        { "key": "council_tax", "type": "single_choice", "text": "Which option for council tax do you prefer?",
          "required": true,
          "options": [ { "key": "freeze", "label": "Freeze council tax and reduce services" },
                       { "key": "inflation", "label": "Raise it in line with inflation" },
                       { "key": "cap", "label": "Raise it by the most allowed (2.99%) to protect services" } ] },
        { "key": "reduce", "type": "multiple_choice", "text": "If savings must be made, where should we look first?",
          "hint": "Choose up to two", "max_choices": 2, "other": true,
          "options": [ { "key": "events", "label": "Town events" },
                       { "key": "opening", "label": "Shorter opening hours at council offices" },
                       { "key": "grants", "label": "Grants to community groups" },
                       { "key": "online", "label": "Moving more services online" } ] },
        { "key": "ideas", "type": "free_text", "text": "Do you have other ideas for saving money or raising income?",
          "max_length": 2000 } ] }"#,
    ),
    (
        "People's Panel wave 3: parks and open spaces",
        r#"{ "title": "Your visits",
      "intro": "These questions are about the parks and open spaces you use in Tamworth.",
      "questions": [
        { "key": "visit_often", "type": "single_choice", "text": "How often do you visit a park or open space in Tamworth?",
          "required": true,
          "options": [ { "key": "weekly", "label": "Every week" }, { "key": "monthly", "label": "Every month" },
                       { "key": "less", "label": "Less often" }, { "key": "never", "label": "Never" } ] },
        { "key": "why_not", "type": "multiple_choice", "text": "What stops you visiting more often?",
          "show_if": { "question": "visit_often", "any_of": [ "less", "never" ] }, "other": true,
          "options": [ { "key": "safety", "label": "I do not feel safe" }, { "key": "distance", "label": "They are too far away" },
                       { "key": "facilities", "label": "There is not enough to do" }, { "key": "time", "label": "I have no time" } ] },
        { "key": "last_visit", "type": "date", "text": "When did you last visit one?",
          "show_if": { "question": "visit_often", "any_of": [ "weekly", "monthly" ] } },
        { "key": "rating", "type": "grid", "text": "How would you rate Tamworth's parks for the following?",
          "scale": { "min": 1, "max": 5, "min_label": "Very poor", "max_label": "Very good" },
          "statements": [ { "key": "clean", "text": "Cleanliness" }, { "key": "safe", "text": "Feeling safe" },
                          { "key": "play", "text": "Play areas" } ] },
        { "key": "household", "type": "number", "text": "How many people live in your household?", "min": 1, "max": 15 },
        { "key": "improve", "type": "free_text", "text": "What one thing would most improve Tamworth's parks?" } ] }"#,
    ),
    (
        // Its results are published, so the hub shows what people answered.
        "Joint residents' survey",
        r#"{ "title": "Your area",
      "intro": "One survey for the council, the NHS and the police in Herefordshire.",
      "questions": [
        { "key": "area_satisfaction", "type": "scale", "required": true,
          "text": "How satisfied are you with your local area as a place to live?",
          "scale": { "min": 1, "max": 5, "min_label": "Very dissatisfied", "max_label": "Very satisfied" } },
        { "key": "after_dark", "type": "single_choice", "text": "How safe do you feel outside in your area after dark?",
          "options": [ { "key": "very_safe", "label": "Very safe" }, { "key": "fairly_safe", "label": "Fairly safe" },
                       { "key": "fairly_unsafe", "label": "Fairly unsafe" }, { "key": "very_unsafe", "label": "Very unsafe" } ] },
        { "key": "listens", "type": "grid", "text": "How far do you agree that each of these listens to local people?",
          "scale": { "min": 1, "max": 5, "min_label": "Strongly disagree", "max_label": "Strongly agree" },
          "statements": [ { "key": "council", "text": "The council" }, { "key": "nhs", "text": "The NHS locally" },
                          { "key": "police", "text": "The police" } ] },
        { "key": "needs_improving", "type": "free_text", "text": "What most needs improving in your area?" } ] }"#,
    ),
];

/// Free-text answers the demo draws from, by question: phrased as people write, so theme
/// suggestions have something to find.
const DEMO_TEXT: &[(&str, &[&str])] = &[
    (
        "ideas",
        &[
            "Charge for green waste collections",
            "Charge for the green bin collection like other councils do",
            "Share back office services with Lichfield council",
            "Share services and buildings with the county council",
            "Sell empty council buildings",
            "Turn off some street lights after midnight",
            "Put more services online and close the offices on Fridays",
            "Fewer glossy leaflets through the door",
            "Raise car parking charges in the town centre for visitors",
        ],
    ),
    (
        "improve",
        &[
            "More bins, and empty them more often",
            "Empty the bins more often at weekends",
            "Better lighting on the paths in winter",
            "Lighting along the river path so it feels safe",
            "Toilets that are open all year",
            "Public toilets near the play area",
            "Fix the broken play equipment",
            "More benches and seating for older people",
            "Do something about dog fouling",
        ],
    ),
    (
        "needs_improving",
        &[
            "Buses to the villages in the evening",
            "Evening buses so people can get home from town",
            "Waiting times at the GP surgery",
            "Getting a GP appointment",
            "Potholes on the rural roads",
            "Fix the potholes on the back lanes",
            "Somewhere for young people to go",
        ],
    ),
];

/// The demo questionnaire of an activity, if it runs one.
fn demo_questionnaire(title: &str) -> Result<Option<consult_core::Questionnaire>, StoreError> {
    let Some((_, sections)) = QUESTIONNAIRES.iter().find(|(t, _)| *t == title) else {
        return Ok(None);
    };
    let text = format!(
        r#"{{ "sections": [ {sections}, {{ "title": "About this consultation", "questions": [ {SATISFACTION_PAIR} ] }} ] }}"#
    );
    let input: consult_core::QuestionnaireInput =
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("demo questionnaire: {e}")))?;
    consult_core::Questionnaire::parse(input)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("demo questionnaire: {e}")))
}

/// One respondent's answers to a demo questionnaire, drawn with `pick` (an index below the
/// number given): every question of its type, the conditional ones only when shown, some left
/// out as people do.
fn demo_answers(
    q: &consult_core::Questionnaire,
    today: NaiveDate,
    pick: &mut dyn FnMut(u32) -> u32,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    use consult_core::QuestionKind;
    use serde_json::json;
    let mut answers = std::collections::BTreeMap::new();
    for question in q.questions() {
        if let Some(cond) = &question.show_if {
            let shown = answers
                .get(&cond.question)
                .and_then(serde_json::Value::as_str)
                .is_some_and(|a: &str| cond.any_of.iter().any(|k| k == a));
            if !shown {
                continue;
            }
        }
        // One in eight leaves an optional question out.
        if !question.required && pick(8) == 0 {
            continue;
        }
        let value = match &question.kind {
            QuestionKind::SingleChoice { options, .. } => {
                // Earlier options are likelier (the way most answers lean).
                let u = pick(100) as usize * pick(100) as usize;
                let i = u * options.len() / 10_000;
                json!(options[i.min(options.len() - 1)].key)
            }
            QuestionKind::MultipleChoice {
                options,
                other,
                max_choices,
            } => {
                let most = max_choices.map_or(options.len(), |m| m as usize).min(options.len());
                let n = 1 + pick(most as u32) as usize;
                let start = pick(options.len() as u32) as usize;
                let mut chosen: Vec<serde_json::Value> = (0..n)
                    .map(|k| json!(options[(start + k) % options.len()].key))
                    .collect();
                if *other && n < most && pick(10) == 0 {
                    chosen.push(json!({ "option": "other", "text": "Something else" }));
                }
                json!(chosen)
            }
            QuestionKind::Scale(scale) => {
                // Centred a little above the middle of the scale.
                let width = (scale.max - scale.min + 1) as u32;
                let a = pick(width) as i64;
                let b = pick(width) as i64;
                json!((scale.min + (a + b + 1) / 2).min(scale.max))
            }
            QuestionKind::Ranking { options } => {
                let mut keys: Vec<&str> = options.iter().map(|o| o.key.as_str()).collect();
                for k in (1..keys.len()).rev() {
                    let j = pick(k as u32 + 1) as usize;
                    keys.swap(k, j);
                }
                json!(keys)
            }
            QuestionKind::Number { min, max } => {
                let lo = min.unwrap_or(0.0) as u32;
                let hi = max.unwrap_or(100.0) as u32;
                json!(lo + pick((hi - lo).min(4) + 1))
            }
            QuestionKind::Date => json!(shift(today, -(pick(60) as i64)).to_string()),
            QuestionKind::FreeText { .. } => {
                let Some((_, texts)) = DEMO_TEXT.iter().find(|(k, _)| *k == question.key) else {
                    continue;
                };
                // Most people leave free text empty.
                if pick(3) != 0 {
                    continue;
                }
                json!(texts[pick(texts.len() as u32) as usize])
            }
            QuestionKind::Grid { statements, scale } => {
                let width = (scale.max - scale.min + 1) as u32;
                let points: serde_json::Map<String, serde_json::Value> = statements
                    .iter()
                    .map(|s| (s.key.clone(), json!(scale.min + pick(width) as i64)))
                    .collect();
                json!(points)
            }
        };
        answers.insert(question.key.clone(), value);
    }
    answers
}

/// Demo responses to an activity: `n` of them, answers drawn (deterministically from `seed`)
/// with the skews consultations usually see: more women, older people and White British
/// respondents than live in the area, some preferring not to say.
fn demo_responses(
    c: &Consultation,
    questionnaire: Option<&consult_core::Questionnaire>,
    n: usize,
    seed: u64,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<consult_core::Response> {
    let mut state = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) % 1000) as u32
    };
    let mut pick = |options: &[(&str, u32)]| -> String {
        let total: u32 = options.iter().map(|o| o.1).sum();
        let mut x = next() % total;
        for (k, w) in options {
            if x < *w {
                return (*k).to_owned();
            }
            x -= w;
        }
        consult_core::PREFER_NOT_TO_SAY.to_owned()
    };
    let channels = [
        consult_core::ResponseChannel::Online,
        consult_core::ResponseChannel::Online,
        consult_core::ResponseChannel::Online,
        consult_core::ResponseChannel::Paper,
    ];
    (0..n)
        .map(|i| {
            let mut monitoring = std::collections::BTreeMap::new();
            monitoring.insert(
                "sex".into(),
                pick(&[("female", 57), ("male", 39), ("prefer_not_to_say", 4)]),
            );
            monitoring.insert(
                "age_band".into(),
                pick(&[
                    ("16-24", 4),
                    ("25-34", 9),
                    ("35-44", 14),
                    ("45-54", 18),
                    ("55-64", 21),
                    ("65-74", 20),
                    ("75+", 10),
                    ("prefer_not_to_say", 4),
                ]),
            );
            monitoring.insert(
                "ethnic_group".into(),
                pick(&[
                    ("white_british", 90),
                    ("other_white", 3),
                    ("indian", 2),
                    ("african", 1),
                    ("white_and_black_caribbean", 1),
                    ("prefer_not_to_say", 3),
                ]),
            );
            monitoring.insert(
                "disability".into(),
                pick(&[
                    ("limited_a_lot", 9),
                    ("limited_a_little", 13),
                    ("condition_not_limiting", 8),
                    ("no_condition", 66),
                    ("prefer_not_to_say", 4),
                ]),
            );
            let channel = channels[i % channels.len()];
            // Answers drawn until valid (a draw is always valid; the check builds the rows).
            let answers = questionnaire
                .and_then(|q| {
                    // A generator of its own per respondent (the monitoring draw holds `next`).
                    let mut st = seed
                        .wrapping_mul(7919)
                        .wrapping_add(i as u64)
                        .wrapping_mul(6_364_136_223_846_793_005);
                    let mut draw = |n: u32| {
                        st = st
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        ((st >> 33) % u64::from(n.max(1))) as u32
                    };
                    let drawn = demo_answers(q, today, &mut draw);
                    q.check_answers(&drawn).ok()
                })
                .unwrap_or_default();
            consult_core::Response {
                id: Uuid::now_v7(),
                consultation_id: c.id,
                channel,
                comments: Some(format!("Demo response {} to {}", i + 1, c.plan.title())),
                monitoring,
                scheme: consult_core::DEFAULT_SCHEME_ID.into(),
                received_at: now,
                recorded_by: (channel != consult_core::ResponseChannel::Online).then(|| "Customer services".into()),
                questionnaire_version: questionnaire.map(|q| q.version),
                answers,
                area: None,
                results_notice: None,
            }
        })
        .collect()
}

/// Loads the demo data if the register has no organisations. Returns whether it loaded.
pub async fn load_if_empty(store: &Store, today: NaiveDate, now: DateTime<Utc>) -> Result<bool, StoreError> {
    if !store.list_organisations().await?.is_empty() {
        return Ok(false);
    }
    let demo = Actor {
        name: "demo".into(),
        role: Role::Admin,
        organisation: None,
        staff: None,
    };
    for (code, name, parent) in AREAS {
        let area = Area {
            code: AreaCode::parse(code).map_err(StoreError::Corrupt)?,
            name: (*name).into(),
            parent: parent.map(AreaCode::parse).transpose().map_err(StoreError::Corrupt)?,
        };
        store.create_area(&area, &demo, now).await?;
    }
    for (slug, name, kind, services) in ORGANISATIONS {
        let org = Organisation::parse(
            OrganisationId(Uuid::now_v7()),
            OrganisationInput {
                slug: Some((*slug).into()),
                name: Some((*name).into()),
                kind: Some((*kind).into()),
                services: services.iter().map(|s| (*s).into()).collect(),
            },
        )
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        store.create_organisation(&org, &demo, now).await?;
    }
    let snapshot = store.register_snapshot().await?;
    let mut all = Vec::new();
    for ex in EXAMPLES {
        let opens_on = shift(today, ex.opens);
        let closes_on = shift(opens_on, ex.days - 1);
        let input = ConsultationInput {
            organisation: Some(ex.org.into()),
            service: Some(ex.service.into()),
            title: Some(ex.title.into()),
            summary: Some(ex.summary.into()),
            purpose: Some(format!("To understand views on: {}.", ex.topics.join(", "))),
            decision: Some("The relevant cabinet member decision following the activity.".into()),
            decision_date: Some(shift(closes_on, 42).to_string()),
            can_change: vec!["The options and priorities set out in the proposals".into()],
            cannot_change: vec!["Statutory duties and the overall funding available".into()],
            level: Some(ex.level.into()),
            methods: ex.methods.iter().map(|s| (*s).into()).collect(),
            audience: AudienceInput {
                groups: ex.groups.iter().map(|s| (*s).into()).collect(),
                areas: ex.areas.iter().map(|s| (*s).into()).collect(),
                equality_groups: vec![],
            },
            topics: ex.topics.iter().map(|s| (*s).into()).collect(),
            opens_on: Some(opens_on.to_string()),
            closes_on: Some(closes_on.to_string()),
            feedback_due_on: Some(shift(closes_on, 84).to_string()),
            late_responses_days: None,
            legal_basis: None,
            lead_officer: Some("Corporate Consultation Officer".into()),
            accessible_formats: Some("Paper copies, large print and other languages on request; help by phone.".into()),
            cost: Some(CostInput {
                amount: Some(ex.cost),
                currency: Some("GBP".into()),
            }),
            results_sharing: None,
            data_protection: None,
        };
        let plan = ConsultationPlan::parse(input, snapshot.context())
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", ex.title)))?;
        let org = snapshot
            .organisations
            .iter()
            .find(|o| o.slug.as_str() == ex.org)
            .ok_or_else(|| StoreError::Corrupt(format!("demo organisation {}", ex.org)))?;
        // The record was drafted two weeks before it opened (or now, for future ones).
        let created_at = (now + Duration::days(ex.opens.min(0) - 14)).min(now);
        let mut history = Vec::new();
        let mut status = Status::Draft;
        for (step, &to) in ex.path.iter().enumerate() {
            let at = created_at + Duration::days(step as i64 + 1);
            if to == Status::ResultsPublished {
                history.extend(consult_core::scheduled_changes(status, opens_on, closes_on, today));
            }
            let from = if to == Status::ResultsPublished {
                Status::Closed
            } else {
                status
            };
            history.push(StatusChange {
                from,
                to,
                at: if to == Status::ResultsPublished || to == Status::Evaluated {
                    (closes_on + Days::new(40 + 20 * step as u64))
                        .and_hms_opt(10, 0, 0)
                        .map_or(at, |t| t.and_utc())
                        .min(now)
                } else {
                    at
                },
                by: if to == Status::Submitted {
                    "Service lead".into()
                } else {
                    "Corporate Consultation Officer".into()
                },
                reason: (to == Status::Withdrawn).then(|| "Merged into the wider library strategy consultation".into()),
                override_justification: None,
                signer: Some(if to == Status::Submitted {
                    consult_core::Signer {
                        role: consult_core::Role::Officer,
                        organisation: Some(org.id),
                    }
                } else {
                    consult_core::Signer {
                        role: consult_core::Role::Coordinator,
                        organisation: None,
                    }
                }),
            });
            status = to;
        }
        all.push(Consultation {
            id: ConsultationId(Uuid::now_v7()),
            organisation_id: org.id,
            plan,
            recorded_status: status,
            version: 1,
            created_at,
            updated_at: history.last().map_or(created_at, |h| h.at),
            status_history: history,
            approval: None,
        });
    }
    store.import_consultations(&all, &demo).await?;
    let baselines: Vec<consult_store::Baseline> = POPULATIONS
        .iter()
        .map(|(code, name, people, wb)| {
            Ok(consult_store::Baseline {
                area: AreaCode::parse(code).map_err(StoreError::Corrupt)?,
                name: (*name).into(),
                source: "Census 2021, rounded for the demo".into(),
                counts: demo_baseline(*people, *wb),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    store.put_baselines(&baselines, &demo, now).await?;
    let mut questionnaires = std::collections::HashMap::new();
    for c in &all {
        if let Some(q) = demo_questionnaire(c.plan.title())? {
            let q = store
                .save_questionnaire(&demo, now, c.id, &q, 0, consult_store::QuestionnaireChange::Set)
                .await?;
            questionnaires.insert(c.id, q);
        }
    }
    for (i, c) in all.iter().enumerate() {
        if matches!(
            c.status_on(today),
            Status::Open | Status::Closed | Status::ResultsPublished | Status::Evaluated
        ) {
            let n = 40 + (i * 53) % 180;
            let responses = demo_responses(c, questionnaires.get(&c.id), n, i as u64 + 1, today, now);
            store.insert_responses(&responses).await?;
        }
    }
    for c in &all {
        let Some((_, themes)) = FEEDBACK.iter().find(|(title, _)| *title == c.plan.title()) else {
            continue;
        };
        let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let feedback = Feedback {
            items: themes
                .iter()
                .map(|(theme, said, did, did_not, because)| FeedbackItem {
                    theme: (*theme).into(),
                    you_said: (*said).into(),
                    we_did: text(did),
                    we_did_not: text(did_not),
                    reason: text(because),
                    theme_key: None,
                    responses: None,
                })
                .collect(),
            summary: Some(format!(
                "What people told us about {}, and what we did.",
                c.plan.title()
            )),
            published_on: c
                .status_history
                .iter()
                .find(|h| h.to == Status::ResultsPublished)
                .map(|h| h.at.date_naive()),
            updated_at: now,
            updated_by: "Corporate Consultation Officer".into(),
        };
        store
            .save_feedback(c.id, c.version, &feedback, &[], None, &demo)
            .await?;
        if c.recorded_status == Status::Evaluated {
            let debrief = consult_core::Debrief {
                what_worked: Some(
                    "One survey for all partners: a higher response than the three separate surveys had.".into(),
                ),
                what_did_not: Some("Few responses from people under 25, online or on paper.".into()),
                learning_points: vec![
                    "Add a short text-message version for younger residents".into(),
                    "Agree the shared questions three months earlier".into(),
                ],
                tags: vec!["joint working".into(), "young people".into()],
                audience_size: Some(6000),
                recorded_at: now,
                recorded_by: "Research Team".into(),
            };
            store.save_debrief(c.id, &debrief, &demo).await?;
            let year = chrono::Datelike::year(&c.plan.opens_on());
            store.mark_external(&[c.id], year, &demo, now).await?;
        }
    }
    // A compliment and a resolved complaint about how an activity was run.
    if let Some(c) = all.iter().find(|c| c.recorded_status == Status::ResultsPublished) {
        let public = Actor {
            name: "public".into(),
            role: Role::Officer,
            organisation: None,
            staff: None,
        };
        let compliment = consult_core::Remark::parse(
            Uuid::now_v7(),
            c.id,
            consult_core::RemarkInput {
                kind: Some("compliment".into()),
                body: Some("Clear explanation of the options at the drop-in session.".into()),
                principle: Some("clear".into()),
                contact: None,
            },
            now,
        )
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        store.insert_remark(&compliment, &public).await?;
        let complaint = consult_core::Remark::parse(
            Uuid::now_v7(),
            c.id,
            consult_core::RemarkInput {
                kind: Some("complaint".into()),
                body: Some("The paper questionnaire arrived after the first meeting.".into()),
                principle: Some("timely".into()),
                contact: Some("resident@example.org".into()),
            },
            now,
        )
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        store.insert_remark(&complaint, &public).await?;
        let resolved = complaint
            .update(
                &consult_core::RemarkUpdate {
                    status: Some("resolved".into()),
                    reply: Some("Sorry: we now post questionnaires two weeks before any meeting.".into()),
                },
                now,
            )
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        store.update_remark(&resolved, None, &demo).await?;
    }
    Ok(true)
}

impl crate::App {
    /// Loads the demo data if the register has no organisations, as of the application's
    /// clock. Returns whether it loaded.
    pub async fn load_demo_if_empty(&self) -> crate::AppResult<bool> {
        Ok(load_if_empty(&self.store, self.today(), self.now()).await?)
    }
}
