//! E-mails rendered from a message's kind and fields: a subject, a plain-text part and an HTML
//! part (templates in `templates/email/`, HTML escaped by askama).

use askama::Template;
use consult_app::delivery::Outgoing;
use consult_core::{Briefing, MessageKind};

/// An e-mail ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// Why a message cannot be rendered (a permanent failure: trying again will not help).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A field its template needs is missing from the message.
    #[error("the {kind} message has no `{field}` field")]
    MissingField {
        /// The message's kind.
        kind: &'static str,
        /// The field.
        field: &'static str,
    },
    /// This kind has no e-mail template yet.
    #[error("no e-mail template for {0} messages")]
    NoTemplate(&'static str),
    /// The template failed.
    #[error("rendering the {kind} e-mail: {error}")]
    Template {
        /// The message's kind.
        kind: &'static str,
        /// What failed.
        error: askama::Error,
    },
}

#[derive(Template)]
#[template(path = "email/verification.txt")]
struct VerificationText<'a> {
    code: &'a str,
    verify_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/verification.html")]
struct VerificationHtml<'a> {
    code: &'a str,
    verify_url: &'a str,
    unsubscribe_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "email/invitation.txt")]
struct InvitationText<'a> {
    organisation: &'a str,
    activity_title: &'a str,
    activity_summary: &'a str,
    opens_on: &'a str,
    closes_on: &'a str,
    activity_url: &'a str,
    unsubscribe_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "email/invitation.html")]
struct InvitationHtml<'a> {
    organisation: &'a str,
    activity_title: &'a str,
    activity_summary: &'a str,
    opens_on: &'a str,
    closes_on: &'a str,
    activity_url: &'a str,
    unsubscribe_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "email/results_notice.txt")]
struct ResultsNoticeText<'a> {
    organisation: &'a str,
    activity_title: &'a str,
    activity_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/results_notice.html")]
struct ResultsNoticeHtml<'a> {
    organisation: &'a str,
    activity_title: &'a str,
    activity_url: &'a str,
    unsubscribe_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "email/reply.txt")]
struct ReplyText<'a> {
    activity_title: &'a str,
    reply: &'a str,
    activity_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/reply.html")]
struct ReplyHtml<'a> {
    activity_title: &'a str,
    /// The reply's paragraphs (blank lines apart in what the officer wrote).
    paragraphs: Vec<&'a str>,
    activity_url: &'a str,
    unsubscribe_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "email/digest.txt")]
struct DigestText<'a> {
    period: &'a str,
    digest: &'a str,
    unsubscribe_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "email/alert.txt")]
struct AlertText<'a> {
    date: &'a str,
    alert: &'a str,
    unsubscribe_url: Option<&'a str>,
}

/// A digest or an alert: its sections read back from the message's text.
#[derive(Template)]
#[template(path = "email/briefing.html")]
struct BriefingHtml<'a> {
    heading: String,
    briefing: Briefing,
    why: &'a str,
    unsubscribe_url: Option<&'a str>,
}

/// Renders a message as an e-mail.
pub fn render(o: &Outgoing) -> Result<Email, RenderError> {
    let kind = o.message.kind;
    let field = |name: &'static str| {
        o.fields.get(name).map(String::as_str).ok_or(RenderError::MissingField {
            kind: kind.as_str(),
            field: name,
        })
    };
    let unsubscribe_url = o.unsubscribe_url.as_deref();
    let fail = |error| RenderError::Template {
        kind: kind.as_str(),
        error,
    };
    match kind {
        MessageKind::Verification => {
            let (code, verify_url) = (field("code")?, field("verify_url")?);
            Ok(Email {
                subject: "Confirm your registration".into(),
                text: VerificationText { code, verify_url }.render().map_err(fail)?,
                html: VerificationHtml {
                    code,
                    verify_url,
                    unsubscribe_url: None,
                }
                .render()
                .map_err(fail)?,
            })
        }
        MessageKind::Invitation => {
            let text = InvitationText {
                organisation: field("organisation")?,
                activity_title: field("activity_title")?,
                activity_summary: field("activity_summary")?,
                opens_on: field("opens_on")?,
                closes_on: field("closes_on")?,
                activity_url: field("activity_url")?,
                unsubscribe_url,
            };
            let html = InvitationHtml {
                organisation: text.organisation,
                activity_title: text.activity_title,
                activity_summary: text.activity_summary,
                opens_on: text.opens_on,
                closes_on: text.closes_on,
                activity_url: text.activity_url,
                unsubscribe_url,
            };
            Ok(Email {
                subject: format!("Have your say: {}", text.activity_title),
                text: text.render().map_err(fail)?,
                html: html.render().map_err(fail)?,
            })
        }
        MessageKind::ResultsNotice => {
            let text = ResultsNoticeText {
                organisation: field("organisation")?,
                activity_title: field("activity_title")?,
                activity_url: field("activity_url")?,
            };
            let html = ResultsNoticeHtml {
                organisation: text.organisation,
                activity_title: text.activity_title,
                activity_url: text.activity_url,
                unsubscribe_url: None,
            };
            Ok(Email {
                subject: format!("Results published: {}", text.activity_title),
                text: text.render().map_err(fail)?,
                html: html.render().map_err(fail)?,
            })
        }
        MessageKind::Reply => {
            let text = ReplyText {
                activity_title: field("activity_title")?,
                reply: field("reply")?,
                activity_url: field("activity_url")?,
            };
            let html = ReplyHtml {
                activity_title: text.activity_title,
                paragraphs: text
                    .reply
                    .split("\n\n")
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .collect(),
                activity_url: text.activity_url,
                unsubscribe_url: None,
            };
            Ok(Email {
                subject: format!("A reply about {}", text.activity_title),
                text: text.render().map_err(fail)?,
                html: html.render().map_err(fail)?,
            })
        }
        MessageKind::Digest => {
            let text = DigestText {
                period: field("period")?,
                digest: field("digest")?,
                unsubscribe_url,
            };
            let heading = format!("Activities in your wards, {}", text.period);
            let html = BriefingHtml {
                heading: heading.clone(),
                briefing: Briefing::parse(text.digest),
                why: "You are getting this e-mail because you are a councillor for these wards in consult.",
                unsubscribe_url,
            };
            Ok(Email {
                subject: heading,
                text: text.render().map_err(fail)?,
                html: html.render().map_err(fail)?,
            })
        }
        MessageKind::Alert => {
            let text = AlertText {
                date: field("date")?,
                alert: field("alert")?,
                unsubscribe_url,
            };
            let briefing = Briefing::parse(text.alert);
            let heading = format!("Activities needing attention, {}", text.date);
            let html = BriefingHtml {
                heading: heading.clone(),
                briefing,
                why: "You are getting this e-mail because you coordinate consultation in consult.",
                unsubscribe_url,
            };
            Ok(Email {
                subject: heading,
                text: text.render().map_err(fail)?,
                html: html.render().map_err(fail)?,
            })
        }
    }
}
