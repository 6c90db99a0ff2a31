//! Embedding consult-core: validate a plan, place it on the continuum under another council's
//! model, and walk it through its lifecycle, all without a database or a clock.
//!
//! Run with `cargo run -p consult-core --example register`.

use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Actor, Area, AreaCode, AreaHierarchy, AssessmentContext, AudienceInput, Consultation, ConsultationId,
    ConsultationInput, ConsultationPlan, ContinuumModel, DEFAULT_FRAMEWORKS, Framework, FrameworkCatalogue,
    Organisation, OrganisationId, OrganisationInput, Outcome, RegisterContext, Role, Status, TransitionContext,
    TransitionRequest, assess, plan_transition,
};
use uuid::Uuid;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let org = Organisation::parse(
        OrganisationId(Uuid::from_u128(1)),
        OrganisationInput {
            slug: Some("tamworth".into()),
            name: Some("Tamworth Borough Council".into()),
            kind: Some("council".into()),
            services: vec!["Environment and Waste".into()],
        },
    )?;
    let county = AreaCode::parse("E10000028")?;
    let areas = AreaHierarchy::new([
        Area {
            code: county.clone(),
            name: "Staffordshire".into(),
            parent: None,
        },
        Area {
            code: AreaCode::parse("E07000199")?,
            name: "Tamworth".into(),
            parent: Some(county),
        },
    ]);
    let ctx = RegisterContext {
        organisations: std::slice::from_ref(&org),
        areas: &areas,
    };

    // A plan with mistakes: every one is reported at once.
    let mut input = ConsultationInput {
        organisation: Some("tamworth".into()),
        service: Some("Environment and Waste".into()),
        title: Some("Recycling and waste collection changes".into()),
        level: Some("consultation".into()),
        methods: vec!["online_survey".into(), "leaflet".into()],
        audience: AudienceInput {
            groups: vec!["residents".into()],
            areas: vec!["E07000199".into()],
            equality_groups: vec![],
        },
        opens_on: Some("2026-02-02".into()),
        closes_on: Some("2026-04-26".into()),
        ..Default::default()
    };
    if let Err(errors) = ConsultationPlan::parse(input.clone(), ctx) {
        for e in errors.errors() {
            println!("invalid {}: {}", e.field, e.message);
        }
    }

    // Herefordshire's "Consultation (deliberating with)" is the canonical `consult` level.
    input.level = Some(ContinuumModel::Herefordshire.from_model("consultation")?.to_string());
    let plan = ConsultationPlan::parse(input, ctx)?;
    println!(
        "{} runs {} days at level {}",
        plan.title(),
        plan.duration_days(),
        plan.level()
    );

    let now: DateTime<Utc> = "2026-01-12T10:00:00Z".parse()?;
    let today: NaiveDate = now.date_naive();
    let mut c = Consultation {
        id: ConsultationId(Uuid::from_u128(7)),
        organisation_id: org.id,
        plan,
        recorded_status: Status::Draft,
        version: 1,
        created_at: now,
        updated_at: now,
        status_history: vec![],
        approval: None,
    };
    let officer = Actor {
        name: "Waste officer".into(),
        role: Role::Officer,
        organisation: Some(org.id),
        staff: None,
    };
    let coordinator = Actor {
        name: "Corporate Consultation Officer".into(),
        role: Role::Coordinator,
        organisation: None,
        staff: None,
    };
    // The principles checklist under the defaults a new organisation adopts.
    let catalogue = FrameworkCatalogue::new([]);
    let frameworks: Vec<&Framework> = DEFAULT_FRAMEWORKS.iter().filter_map(|k| catalogue.get(k)).collect();
    let checklist = AssessmentContext {
        today,
        notice_from: today,
        pre_election: &[],
        unresolved_findings: &[],
        attestations: &[],
    };
    let assessment = assess(&c.plan, &frameworks, &checklist);
    for check in assessment.checks.iter().filter(|ch| ch.outcome != Outcome::Pass) {
        println!("{:?} {}: {}", check.outcome, check.id, check.reason);
    }
    let ctx = TransitionContext {
        today,
        now,
        assessment: Some(&assessment),
        debriefed: false,
    };
    for (who, to, justification) in [
        (&officer, Status::Submitted, None),
        (&officer, Status::Approved, None),
        (&coordinator, Status::Approved, None),
        (
            &coordinator,
            Status::Approved,
            Some("The waste contract ends in May: the decision cannot wait"),
        ),
    ] {
        let request = TransitionRequest {
            to: Some(to),
            override_justification: justification.map(Into::into),
            ..Default::default()
        };
        match plan_transition(&c, &request, who, &ctx) {
            Ok(changes) => {
                c.recorded_status = changes.last().map_or(c.recorded_status, |ch| ch.to);
                c.status_history.extend(changes);
                println!("{} moved it to {to}", who.name);
            }
            Err(e) => println!("{} cannot move it to {to}: {e}", who.name),
        }
    }
    let opening_day = NaiveDate::from_ymd_opt(2026, 2, 2).ok_or("date")?;
    println!("on {opening_day} it is {}", c.status_on(opening_day));
    assert_eq!(c.status_on(opening_day), Status::Open);
    Ok(())
}
