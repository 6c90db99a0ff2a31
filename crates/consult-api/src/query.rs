//! What an address may carry besides its path, checked once for every route before its handler
//! runs: each query parameter must be one the route knows, and every query value and path
//! parameter must pass the text rule of consult-core ([`consult_core::text_problem`]).
//!
//! An unknown parameter is refused (400, naming it) rather than ignored: a misspelt filter would
//! otherwise return the unfiltered list as if it applied, and any made-up parameter would make
//! an anonymous `GET` a new address that bypasses the public cache. The API's routes know the
//! parameters their OpenAPI operation declares (so the document and the check cannot disagree);
//! the hub's pages know the fields of their filter forms ([`HUB_QUERIES`]).

use crate::error::ApiError;
use axum::extract::{MatchedPath, Query, RawPathParams, Request};
use axum::http::{Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use consult_core::ValidationErrors;
use std::collections::HashMap;
use std::sync::Arc;

/// The query parameters each route knows, by method and route pattern.
#[derive(Debug, Default)]
pub(crate) struct KnownQueries(HashMap<(Method, String), Vec<String>>);

impl KnownQueries {
    /// The query parameters every operation of `doc` declares.
    pub(crate) fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        use utoipa::openapi::path::ParameterIn;
        let mut known = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let shared = item.parameters.iter().flatten();
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ] {
                let Some(op) = op else { continue };
                let names = shared
                    .clone()
                    .chain(op.parameters.iter().flatten())
                    .filter(|p| matches!(p.parameter_in, ParameterIn::Query))
                    .map(|p| p.name.clone())
                    .collect();
                known.insert((method, path.clone()), names);
            }
        }
        Self(known)
    }

    /// The parameters of a route; none for a route (or a method) the document does not list.
    fn of(&self, method: &Method, path: &str) -> &[String] {
        // HEAD is answered by the GET handler.
        let method = if method == Method::HEAD { &Method::GET } else { method };
        self.0
            .get(&(method.clone(), path.to_owned()))
            .map_or(&[], Vec::as_slice)
    }
}

/// The query parameters of the hub's pages: the fields of the register's and the results
/// library's filter forms (`hub::register::RegisterForm`, `hub::results::ResultsForm`). Every
/// other page takes none.
pub(crate) const HUB_QUERIES: &[(&str, &[&str])] = &[
    (
        "/register",
        &[
            "q", "topic", "area", "status", "service", "level", "from", "to", "cursor",
        ],
    ),
    (
        "/forward-plan",
        &[
            "q", "topic", "area", "status", "service", "level", "from", "to", "cursor",
        ],
    ),
    ("/results", &["q", "topic", "year", "cursor"]),
    ("/activities/{id}/results", &["by"]),
    // A link in the message with the code fills in the confirmation form.
    ("/verify-registration", &["code"]),
];

/// A query string or path the route refuses.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Parameters the route does not know, and those it does.
    Unknown(Vec<String>, Vec<String>),
    /// A parameter whose value breaks the text rule.
    Text(String, &'static str),
    /// A path parameter that breaks the text rule: it names no resource.
    Path,
}

impl Refusal {
    /// What to tell the caller.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Unknown(unknown, known) => {
                let names = unknown.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
                let which = if unknown.len() == 1 { "parameter" } else { "parameters" };
                if known.is_empty() {
                    format!("unknown query {which} {names}: this address takes no query parameters")
                } else {
                    let known = known.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
                    format!("unknown query {which} {names}: this address takes {known}")
                }
            }
            Self::Text(name, problem) => format!("{name}: {problem}"),
            Self::Path => "no resource at this address".to_owned(),
        }
    }
}

/// Checks the query string of `uri` against the parameters a route knows, and every value, and
/// the route's path parameters, against the text rule.
pub(crate) fn check(uri: &Uri, known: &[impl AsRef<str>], path_params: Option<&RawPathParams>) -> Result<(), Refusal> {
    if let Some(params) = path_params {
        if params.iter().any(|(_, v)| consult_core::text_problem(v).is_some()) {
            return Err(Refusal::Path);
        }
    }
    let Some(query) = uri.query().filter(|q| !q.is_empty()) else {
        return Ok(());
    };
    let pairs = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|Query(p)| p)
        .unwrap_or_else(|_| vec![(query.to_owned(), String::new())]);
    let mut unknown: Vec<String> = Vec::new();
    for (name, value) in &pairs {
        if let Some(problem) = consult_core::text_problem(name) {
            return Err(Refusal::Text("query parameter name".to_owned(), problem));
        }
        if !known.iter().any(|k| k.as_ref() == name) {
            if !unknown.contains(name) {
                unknown.push(name.clone());
            }
        } else if let Some(problem) = consult_core::text_problem(value) {
            return Err(Refusal::Text(name.clone(), problem));
        }
    }
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Unknown(
            unknown,
            known.iter().map(|k| k.as_ref().to_owned()).collect(),
        ))
    }
}

/// The API's check, as a route layer: 400 for an unknown parameter, 422 naming a parameter
/// whose value breaks the text rule, 404 for such a path parameter.
pub(crate) async fn api_layer(
    axum::extract::State(known): axum::extract::State<Arc<KnownQueries>>,
    matched: Option<MatchedPath>,
    path_params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
    req: Request,
    next: Next,
) -> Response {
    let route = matched.as_ref().map_or("", MatchedPath::as_str);
    match check(req.uri(), known.of(req.method(), route), path_params.ok().as_ref()) {
        Ok(()) => next.run(req).await,
        Err(Refusal::Text(name, problem)) => ApiError::Invalid(ValidationErrors::single(name, problem)).into_response(),
        Err(Refusal::Path) => ApiError::NotFound(format!("no resource at {}", req.uri().path())).into_response(),
        Err(unknown) => ApiError::Malformed(unknown.message()).into_response(),
    }
}
