//! The OpenAPI 3.1 document, generated from the handlers' annotations as the routes are added,
//! so the document and the router cannot disagree.

use crate::AppState;
use crate::routes::{
    baselines, checklist, consultations, equality, evaluation, feedback, library, meta, organisations, outbox, overlap,
    plans, questionnaires, reports, residents, responses, schemes, seldom, themes, users,
};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "consult",
        description = "The register of consultation, research and engagement activity of a council and its partners.",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem, consult_core::FieldError, consult_core::Status)),
    tags(
        (name = "register", description = "Activities, their lifecycle and the forward plan"),
        (name = "checklist", description = "The principles checklist and the approval gate"),
        (name = "overlap", description = "Duplication detection across the partnership"),
        (name = "responses", description = "Responses and equality monitoring"),
        (name = "residents", description = "The residents' register, targeted invitations and fatigue"),
        (name = "outbox", description = "Messages queued to be sent (verification codes, invitations, notices) and what became of them"),
        (name = "feedback", description = "You said, we did; evaluation, remarks, the results library and reviews"),
        (name = "plans", description = "Service plans, the recurring programme and the council-wide plan"),
        (name = "organisations", description = "Councils and partner bodies"),
        (name = "areas", description = "Areas by ONS GSS code, with their hierarchy"),
        (name = "tokens", description = "Bearer tokens"),
        (name = "users", description = "Staff accounts: roles, organisations, services and wards"),
        (name = "meta", description = "Health")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every documented route.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(meta::healthz))
        .routes(routes!(meta::continuum))
        .routes(routes!(meta::methods))
        .routes(routes!(meta::groups))
        .routes(routes!(
            organisations::create_organisation,
            organisations::list_organisations
        ))
        .routes(routes!(organisations::get_organisation))
        .routes(routes!(organisations::add_service))
        .routes(routes!(organisations::create_area, organisations::list_areas))
        .routes(routes!(organisations::create_token, organisations::list_tokens))
        .routes(routes!(organisations::revoke_token))
        .routes(routes!(
            consultations::create_consultation,
            consultations::list_consultations
        ))
        .routes(routes!(
            consultations::get_consultation,
            consultations::patch_consultation
        ))
        .routes(routes!(consultations::transition))
        .routes(routes!(consultations::audit))
        .routes(routes!(consultations::forward_plan))
        .routes(routes!(checklist::assessment))
        .routes(routes!(checklist::put_attestations))
        .routes(routes!(checklist::list_frameworks, checklist::add_framework))
        .routes(routes!(checklist::get_framework))
        .routes(routes!(checklist::get_checklist, checklist::put_checklist))
        .routes(routes!(overlap::check_overlap))
        .routes(routes!(overlap::overlaps))
        .routes(routes!(overlap::dismiss))
        .routes(routes!(residents::register))
        .routes(routes!(residents::verify))
        .routes(routes!(residents::show, residents::delete))
        .routes(routes!(residents::export))
        .routes(routes!(residents::unsubscribe))
        .routes(routes!(residents::invitations, residents::invitation_deliveries))
        .routes(routes!(residents::fatigue))
        .routes(routes!(residents::get_rules, residents::put_rules))
        .routes(routes!(outbox::list_outbox))
        .routes(routes!(outbox::retry_message))
        .routes(routes!(outbox::letters))
        .routes(routes!(outbox::letters_printed))
        .routes(routes!(outbox::notify_report))
        .routes(routes!(users::queue_briefings))
        .routes(routes!(users::create_user, users::list_users))
        .routes(routes!(users::get_user, users::patch_user))
        .routes(routes!(responses::respond, responses::list_responses))
        .routes(routes!(responses::get_response))
        .routes(routes!(responses::export_responses))
        .routes(routes!(
            questionnaires::put_questionnaire,
            questionnaires::get_questionnaire
        ))
        .routes(routes!(questionnaires::analysis))
        .routes(routes!(questionnaires::standard_library))
        .routes(routes!(themes::list_themes, themes::create_theme))
        .routes(routes!(themes::patch_theme, themes::delete_theme))
        .routes(routes!(themes::suggestions))
        .routes(routes!(themes::accept))
        .routes(routes!(themes::reject))
        .routes(routes!(themes::put_codes))
        .routes(routes!(feedback::put_feedback, feedback::get_feedback))
        .routes(routes!(reports::annual))
        .routes(routes!(reports::quarterly))
        .routes(routes!(library::link_document, library::list_documents))
        .routes(routes!(library::upload_document))
        .routes(routes!(library::get_document, library::delete_document))
        .routes(routes!(library::library))
        .routes(routes!(plans::put_service_plan, plans::get_service_plan))
        .routes(routes!(plans::council_plan))
        .routes(routes!(plans::review_plan))
        .routes(routes!(plans::put_programme, plans::get_programme))
        .routes(routes!(evaluation::put_debrief, evaluation::get_evaluation))
        .routes(routes!(evaluation::sample))
        .routes(routes!(evaluation::post_remark, evaluation::list_remarks))
        .routes(routes!(evaluation::update_remark))
        .routes(routes!(schemes::monitoring_scheme))
        .routes(routes!(schemes::list_schemes, schemes::add_scheme))
        .routes(routes!(schemes::get_scheme))
        .routes(routes!(schemes::adopt_scheme))
        .routes(routes!(baselines::put_baseline))
        .routes(routes!(equality::equality))
        .routes(routes!(responses::import))
        .routes(routes!(equality::equality_set))
        .routes(routes!(seldom::seldom))
}

/// The OpenAPI document the server publishes at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api_router().split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.paths.paths.insert(
        "/openapi.json".into(),
        utoipa::openapi::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .tag("meta")
                .summary(Some("This OpenAPI 3.1 document"))
                .response("200", utoipa::openapi::Response::new("OpenAPI document")),
        ),
    );
    add_problem_default(&mut doc);
    doc
}

/// Every operation can answer with a problem its annotations do not list (a bad token is 401
/// anywhere, a body over the limit 413, a slow request 408, an unreachable database 503):
/// documented once as each operation's `default` response, application/problem+json.
fn add_problem_default(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let problem = ResponseBuilder::new()
        .description("A problem (RFC 9457): the status says which; `errors` names every field at fault")
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            op.responses
                .responses
                .entry("default".into())
                .or_insert_with(|| RefOr::T(problem.clone()));
        }
    }
}

pub(crate) async fn serve_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}
