//! # consult-core
//!
//! The domain of **consult**, a register of every consultation, research and engagement activity
//! run by a council and its partners. This crate is pure: it does no I/O, has no async code and
//! never reads the clock; callers pass `today` and `now`, and make identifiers.
//!
//! What it holds:
//! - [`ConsultationPlan`]: the register fields of an activity, built only by
//!   [`ConsultationPlan::parse`], which reports every invalid field at once.
//! - [`InvolvementLevel`] and [`ContinuumModel`]: the canonical involvement scale and the published
//!   models (Wilcox, Herefordshire, Stevenage, IAP2, Duty to Involve, Arnstein) mapped onto it.
//! - [`METHODS`] and [`STAKEHOLDER_GROUPS`]: the catalogues the seeds name.
//! - [`Status`], [`plan_transition`]: the lifecycle and who may move an activity through it.
//! - [`Framework`], [`assess`]: the principles checklist (Gunning, the 2008 Code, the councils' own
//!   principles) as versioned data, and the pure evaluation behind the approval gate.
//! - [`Organisation`], [`Area`], [`AreaHierarchy`]: the partnership and its geography.
//!
//! ```
//! use consult_core::{ContinuumModel, InvolvementLevel, Status};
//! use chrono::NaiveDate;
//!
//! // A Stevenage "participation" activity is recorded as `involve` on the canonical scale.
//! assert_eq!(ContinuumModel::Stevenage.from_model("participation").unwrap(), InvolvementLevel::Involve);
//!
//! // An approved activity opens on its opening date without anyone acting.
//! let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
//! let status = Status::Approved.on(day("2026-01-05"), day("2026-03-29"), day("2026-02-01"));
//! assert_eq!(status, Status::Open);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod analysis;
mod area;
mod audience;
mod briefing;
mod catalogue;
mod coding;
mod consultation;
mod continuum;
mod date;
mod disclosure;
mod equality;
mod error;
mod evaluation;
pub mod export;
mod feedback;
mod import;
mod library;
mod lifecycle;
mod monitoring;
mod nomis;
mod organisation;
mod outbox;
mod overlap;
mod plans;
mod principles;
mod questionnaire;
mod remarks;
mod residents;
mod review;
mod sharing;
mod signin;
pub mod spreadsheet;
mod staff;
pub mod text;

pub use analysis::{
    Analysis, AnalysisCounts, AnswerCell, GroupAnalysis, GroupCount, GroupCounts, OptionCount, QuestionAnalysis,
    RankCount, StatementAnalysis, ThemeCell, ThemeCount, ValueCount, analyse, analyse_by, public_analysis,
};
pub use area::{Area, AreaCode, AreaHierarchy, AreaInput};
pub use audience::{AudienceEntry, Matching, ResidentIndex};
pub use briefing::{
    Briefing, BriefingActivity, BriefingItem, BriefingSection, DigestWeek, absolute_links, coordinator_alert,
    councillor_digest, touches_wards,
};
pub use catalogue::{Channel, METHODS, Method, STAKEHOLDER_GROUPS, StakeholderGroup, method, stakeholder_group};
pub use coding::{
    AnswerCode, CodeInput, Coding, CodingProgress, DeleteRefusal, MAX_SUGGESTIONS, MAX_THEMES, MAX_THEMES_PER_ANSWER,
    SUGGESTION_EXAMPLES, SuggestionDecision, Theme, ThemeInput, ThemePatch, ThemeSuggestion, plan_theme_delete,
    public_theme_count, suggest_themes,
};
pub use consultation::{
    Audience, AudienceInput, Consultation, ConsultationId, ConsultationInput, ConsultationPlan, Cost, CostInput,
    DEFAULT_LATE_RESPONSE_DAYS, MAX_LATE_RESPONSE_DAYS, Money, NamedRegister, RegisterContext,
};
pub use continuum::{ContinuumError, ContinuumModel, InvolvementLevel, Stage};
pub use date::{FIRST_DATE, LAST_DATE, check_date, parse_date, valid_year};
pub use disclosure::{DisclosureKey, NoiseSettings, PublicSet, noise, perturb, public_report};
pub use equality::{
    BaselineCounts, CategoryLine, CharacteristicReport, ChiSquare, EqualityReport, Flag, ReportSettings, SeldomHeard,
    Tally, chi_square, equality_report, outreach_groups, seldom_heard, wilson,
};
pub use error::{FieldError, ValidationErrors};
pub use evaluation::{Debrief, DebriefInput, Evaluation, external_sample, may_debrief};
pub use export::{ExportLayout, ExportRecord};
pub use feedback::{
    FEEDBACK_DUE_WEEKS, Feedback, FeedbackInput, FeedbackItem, FeedbackItemInput, RaisedBy, feedback_due,
    feedback_overdue, plan_publication,
};
pub use import::{QuestionColumns, QuestionMapping, ResolvedQuestions, resolve_questions};
pub use library::{Document, DocumentLink, DocumentSource, STORED_MEDIA_TYPES, Upload};
pub use lifecycle::{
    Actor, Approval, NotNow, Role, SCHEDULE, Signer, StaffAccess, Status, StatusChange, TransitionContext,
    TransitionError, TransitionRequest, UNKNOWN_SIGNER, allowed_targets, check_edit, plan_transition, public_signature,
    scheduled_changes,
};
pub use monitoring::{
    AnswerCounts, Category, Characteristic, ColumnMapping, DEFAULT_SCHEME, DEFAULT_SCHEME_ID, ImportMode,
    MonitoringScheme, NotifyRequest, PREFER_NOT_TO_SAY, RESERVED_CHARACTERISTIC_PREFIX, Response, ResponseChannel,
    ResponseInput, SchemeInput, import_responses,
};
pub use nomis::{ColumnTarget, nomis_baselines, nomis_column};
pub use organisation::{Organisation, OrganisationId, OrganisationInput, OrganisationKind, Slug};
pub use outbox::{
    DeliveryStatus, MessageKey, MessageKind, NewMessage, ProviderOutcome, RetryPolicy, SendOutcome, Settlement,
    invitation_fields, mask_addresses, mask_recipient, message_address, message_date, reply_message, results_notice,
};
pub use overlap::{
    Analyzer, Dismissal, OverlapConfig, OverlapContext, OverlapFinding, OverlapIndex, OverlapSubject, Suggestion,
};
pub use plans::{
    CouncilPlan, CouncilPlanLine, PlanEntry, PlanEntryInput, PlanReview, ProgrammeItem, ProgrammeItemInput, Recurrence,
    Registered, ServicePlan, ServicePlanInput, compile_plan,
};
pub use principles::{
    Assessment, AssessmentContext, Attestation, AttestationInput, Check, CheckResult, DEFAULT_FRAMEWORKS,
    ElectionPeriod, Framework, FrameworkCatalogue, FrameworkRef, Outcome, Principle, Rule, ScopeField, Severity,
    assess, builtin_frameworks,
};
pub use questionnaire::{
    Answer, AnswerRow, CheckedAnswers, Choice, ChoiceInput, OTHER, Question, QuestionInput, QuestionKind, QuestionPage,
    QuestionType, Questionnaire, QuestionnaireInput, Scale, ScaleInput, Section, SectionInput, ShowIf, ShowIfInput,
    StandardQuestion, Statement, StatementInput, standard_library, standard_questions,
};
pub use remarks::{Remark, RemarkCounts, RemarkInput, RemarkKind, RemarkStatus, RemarkUpdate};
pub use residents::{
    Candidate, ContactChannel, Exclusion, FatigueFinding, FatigueKind, FatigueRules, InvitationPlan, Resident,
    ResidentInput, invitation_for, normalise_code, normalise_email, normalise_phone, plan_invitations, valid_email,
};
pub use review::{
    EngagementReview, LearningPoint, Measures, PAPER_AND_PHONE_METHODS, Period, PeriodKind, ReviewInput, ReviewTheme,
    engagement_review, review_rows,
};
pub use sharing::{DataProtection, DataProtectionInput, Sharing, parse_sharing};
pub use signin::{
    LockoutPolicy, MAX_PASSWORD, MIN_PASSWORD, SessionEnd, SessionPolicy, SessionStage, SignInMethod, password_problem,
};
pub use staff::{MAX_STAFF_NAME, StaffRole, StaffUser, StaffUserInput};

pub use chrono;
/// Re-exported so embedders name the same date and time types.
pub use text::{has_visible, is_invisible, line_problem, text_problem};
/// Re-exported so embedders name the same identifier type.
pub use uuid;
