//! Responses to open activities, imports of responses collected elsewhere, and the monitoring
//! schemes their equality answers follow.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::organisations::require_coordinator;
use consult_core::{
    Actor, CheckedAnswers, ColumnMapping, ConsultationId, ImportMode, MonitoringScheme, Questionnaire, Response,
    ResponseChannel, ResponseInput, SchemeInput, ValidationErrors,
};
use consult_store::{Page, PageRequest, ResponseRecord};
use std::collections::HashMap;
use std::sync::OnceLock;
use uuid::Uuid;

/// A response as stored: its id, and whether this request stored it (a retry with the same
/// idempotency key returns the first one's id).
#[derive(Debug, Clone)]
pub struct Stored {
    /// The stored response's id.
    pub id: Uuid,
    /// `false` for a retry: nothing new was stored.
    pub new: bool,
    /// The response as checked.
    pub response: Response,
}

/// The built-in monitoring scheme (the Census 2021 categories).
pub(crate) fn default_scheme() -> AppResult<&'static MonitoringScheme> {
    static SCHEME: OnceLock<Result<MonitoringScheme, String>> = OnceLock::new();
    SCHEME
        .get_or_init(MonitoringScheme::census2021)
        .as_ref()
        .map_err(|e| AppError::Internal(format!("monitoring scheme: {e}")))
}

/// An idempotency key as sent, and who sent it.
#[derive(Debug, Clone, Copy)]
pub struct Idempotency<'a> {
    /// The key (`Idempotency-Key`; the hub's hidden key is prefixed `hub:`).
    pub key: &'a str,
    /// Who sent it, as the adapter knows them: a token (`token:` and its hash) or the public at
    /// a client address (`public:` and the address, an IPv6 client by its /64).
    pub caller: &'a str,
}

impl App {
    /// Stores a response to an open activity, from the public or entered by one of its
    /// organisation's officers. With an idempotency key a retry (the same key, caller and
    /// response) stores nothing and returns the first response's id; the same key from another
    /// caller or with another response is invalid (`Idempotency-Key`), and tells nothing of
    /// the response stored under it.
    pub async fn respond(
        &self,
        caller: Option<&Actor>,
        id: ConsultationId,
        input: ResponseInput,
        idempotency: Option<Idempotency<'_>>,
    ) -> AppResult<Stored> {
        // The read guard already hides unpublished activities from all but their organisation's
        // officers and coordinators, who may also enter responses on paper and the like.
        let c = self.readable_consultation(caller, id).await?;
        let officer = caller.filter(|a| a.may_change(&c));
        // A response that came by post, e-mail, telephone or at an event may still be keyed by
        // an officer for some days after closing (the post arrives late); online ones only
        // while open.
        let keyed = officer.is_some()
            && input
                .channel
                .as_deref()
                .and_then(ResponseChannel::parse)
                .is_some_and(|ch| ch != ResponseChannel::Online);
        if keyed {
            c.check_takes_keyed_responses(self.today())?;
        } else {
            c.check_takes_responses(self.today())?;
        }
        let binding = match idempotency {
            Some(i) => {
                // `ResponseInput` serialises the same way every time (fields in order, answers
                // in a sorted map): equal bodies, equal bytes.
                let body = serde_json::to_vec(&input).map_err(|e| AppError::Internal(format!("response body: {e}")))?;
                Some(self.idempotency_binding(i.caller, &body).await?)
            }
            None => None,
        };
        let scheme = self.store.organisation_scheme(c.organisation_id).await?;
        let questionnaire = self.store.questionnaire(c.id).await?;
        let response = Response::parse_answered(
            Uuid::now_v7(),
            c.id,
            input,
            &scheme,
            questionnaire.as_ref(),
            officer.map(|a| a.name.as_str()),
            self.now(),
        )?;
        if let Some(area) = &response.area {
            if !self.area_hierarchy().await?.contains(area) {
                return Err(AppError::field(
                    "area",
                    format!("`{}` is not one of the register's areas", area.as_str()),
                ));
            }
        }
        let key = idempotency
            .zip(binding.as_deref())
            .map(|(i, binding)| consult_store::IdempotencyKey { key: i.key, binding });
        let (id, new) = match self.store.insert_response(&response, key).await? {
            consult_store::Stored::New(id) => (id, true),
            consult_store::Stored::Replayed(id) => (id, false),
            consult_store::Stored::KeyReused => {
                return Err(AppError::Invalid(ValidationErrors::single(
                    "Idempotency-Key",
                    "this key was already used for another response (another body or another caller); \
                     send a new key for a new response",
                )));
            }
        };
        Ok(Stored { id, new, response })
    }

    /// Imports responses collected elsewhere (a survey tool's export, typed-up paper forms)
    /// into an activity `actor` may change, while it is open or closed: every row checked,
    /// then all stored in one transaction (or, in [`ImportMode::GoodRows`], the good rows, with
    /// the others reported by line). `checked` is told how many responses will be stored once
    /// every row is checked, before the transaction (a long import's progress).
    #[allow(clippy::too_many_arguments)]
    pub async fn import_responses(
        &self,
        actor: &Actor,
        id: ConsultationId,
        mapping: &ColumnMapping,
        header: &[String],
        rows: &[Vec<String>],
        mode: ImportMode,
        checked: impl FnOnce(usize) + Send,
    ) -> AppResult<(usize, ValidationErrors)> {
        let c = self.writable_consultation(actor, id).await?;
        c.check_takes_imported_responses(self.today())?;
        let scheme = self.store.organisation_scheme(c.organisation_id).await?;
        let questionnaire = self.store.questionnaire(c.id).await?;
        let areas = self.area_hierarchy().await?;
        let (responses, skipped) = consult_core::import_responses(
            &scheme,
            questionnaire.as_ref(),
            &areas,
            mapping,
            header,
            rows,
            c.id,
            &actor.name,
            self.now(),
            mode,
            Uuid::now_v7,
        )?;
        checked(responses.len());
        self.store.insert_responses(&responses).await?;
        Ok((responses.len(), skipped))
    }

    /// The monitoring scheme respondents are asked: that of a published activity's owner, or
    /// of an organisation, or the default.
    pub async fn scheme_for(
        &self,
        consultation: Option<ConsultationId>,
        organisation: Option<&str>,
    ) -> AppResult<MonitoringScheme> {
        if let Some(id) = consultation {
            let c = self.readable_consultation(None, id).await?;
            return Ok(self.store.organisation_scheme(c.organisation_id).await?);
        }
        if let Some(slug) = organisation {
            let org = self.organisation(slug).await?;
            return Ok(self.store.organisation_scheme(org.id).await?);
        }
        Ok(default_scheme()?.clone())
    }

    /// The scheme an organisation asks its respondents.
    pub async fn organisation_scheme(&self, organisation: consult_core::OrganisationId) -> AppResult<MonitoringScheme> {
        Ok(self.store.organisation_scheme(organisation).await?)
    }

    /// Every monitoring scheme: the default first, then organisations' own, every version.
    pub async fn monitoring_schemes(&self) -> AppResult<Vec<MonitoringScheme>> {
        Ok(self.store.monitoring_schemes().await?)
    }

    /// A scheme by `key@version`, or by `key` for its latest version.
    pub async fn monitoring_scheme(&self, id: &str) -> AppResult<MonitoringScheme> {
        self.store
            .monitoring_scheme(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no monitoring scheme `{id}`")))
    }

    /// A scheme named in a field of a request: an unknown one is that field's error.
    pub(crate) async fn named_scheme(&self, field: &str, id: &str) -> AppResult<MonitoringScheme> {
        self.store
            .monitoring_scheme(id.trim())
            .await?
            .ok_or_else(|| AppError::field(field, format!("no monitoring scheme `{id}`")))
    }

    /// Adds an organisation's own scheme, or a new version of it (coordinators).
    pub async fn add_monitoring_scheme(&self, actor: &Actor, input: SchemeInput) -> AppResult<MonitoringScheme> {
        require_coordinator(actor)?;
        let scheme = MonitoringScheme::parse_own(input, default_scheme()?, 0)?;
        Ok(self.store.add_monitoring_scheme(&scheme, actor, self.now()).await?)
    }

    /// Adopts a stored scheme (exact version) for an organisation's future responses
    /// (coordinators).
    pub async fn adopt_monitoring_scheme(
        &self,
        actor: &Actor,
        organisation: &str,
        scheme: Option<&str>,
    ) -> AppResult<MonitoringScheme> {
        require_coordinator(actor)?;
        let org = self.organisation(organisation).await?;
        let id = scheme
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| AppError::field("scheme", "is required"))?;
        let scheme = self.named_scheme("scheme", id).await?;
        self.store
            .set_organisation_scheme(org.id, &scheme, actor, self.now())
            .await?;
        Ok(scheme)
    }
}

/// A response as staff read it: its answers, comments, channel and date, never its monitoring
/// answers.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResponseView {
    /// Its id.
    pub id: Uuid,
    /// When it was received.
    pub received_at: chrono::DateTime<chrono::Utc>,
    /// How it arrived.
    pub channel: consult_core::ResponseChannel,
    /// The officer who entered it, for staff-entered ones.
    pub entered_by: Option<String>,
    /// The respondent's comments.
    pub comments: Option<String>,
    /// The version of the questionnaire answered, if the activity has one.
    pub questionnaire_version: Option<u32>,
    /// The answers, in the shape the respondent sent them (a multiple choice in the
    /// questionnaire's option order).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: std::collections::BTreeMap<String, serde_json::Value>,
    /// The analysts' coding of its free-text answers, by question.
    pub codes: Vec<consult_core::AnswerCode>,
}

impl App {
    /// An activity's responses, a page at a time, optionally only those whose comments or text
    /// answers contain `q`. Officers of the owner and coordinators; each call is audited
    /// (`responses.list`).
    pub async fn responses(
        &self,
        actor: &Actor,
        id: ConsultationId,
        q: Option<&str>,
        page: &PageRequest,
    ) -> AppResult<Page<ResponseView>> {
        let c = self.writable_consultation(actor, id).await?;
        let found = self.store.list_responses(c.id, q, page).await?;
        let items = self.response_views(c.id, found.items).await?;
        let detail = serde_json::json!({ "q": q, "count": items.len() });
        self.store
            .audit_read(actor, self.now(), "responses.list", &c.id.to_string(), &detail)
            .await?;
        Ok(Page {
            items,
            next: found.next,
        })
    }

    /// One response of an activity (not found for a response of another activity). Officers of
    /// the owner and coordinators; audited (`responses.show`).
    pub async fn response(&self, actor: &Actor, id: ConsultationId, response: Uuid) -> AppResult<ResponseView> {
        let c = self.writable_consultation(actor, id).await?;
        let record = self
            .store
            .get_response(c.id, response)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no response {response} to {id}")))?;
        let view = self
            .response_views(c.id, vec![record])
            .await?
            .pop()
            .ok_or_else(|| AppError::Internal("a response went missing".into()))?;
        let detail = serde_json::json!({ "response": response });
        self.store
            .audit_read(actor, self.now(), "responses.show", &c.id.to_string(), &detail)
            .await?;
        Ok(view)
    }

    /// Responses with their answers rebuilt (the answers of all read in one query).
    async fn response_views(&self, id: ConsultationId, records: Vec<ResponseRecord>) -> AppResult<Vec<ResponseView>> {
        let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
        let mut answers = self.store.answers_of(&ids).await?;
        let mut codes = self.store.codes_of(&ids).await?;
        let mut questionnaires: HashMap<u32, Option<Questionnaire>> = HashMap::new();
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let version = r
                .questionnaire_version
                .map(u32::try_from)
                .transpose()
                .map_err(|e| AppError::Internal(format!("questionnaire version: {e}")))?;
            let rows = answers.remove(&r.id).unwrap_or_default();
            let rebuilt = match version {
                Some(v) if !rows.is_empty() => {
                    if let std::collections::hash_map::Entry::Vacant(slot) = questionnaires.entry(v) {
                        slot.insert(self.store.questionnaire_version(id, v).await?);
                    }
                    match questionnaires.get(&v).and_then(Option::as_ref) {
                        Some(q) => CheckedAnswers::from_rows(q, &rows).to_json(),
                        None => Default::default(),
                    }
                }
                _ => Default::default(),
            };
            let channel = ResponseChannel::parse(&r.channel)
                .ok_or_else(|| AppError::Internal(format!("unknown channel {}", r.channel)))?;
            out.push(ResponseView {
                id: r.id,
                received_at: r.received_at,
                channel,
                entered_by: r.recorded_by,
                comments: r.comments,
                questionnaire_version: version,
                answers: rebuilt,
                codes: codes.remove(&r.id).unwrap_or_default(),
            });
        }
        Ok(out)
    }
}
