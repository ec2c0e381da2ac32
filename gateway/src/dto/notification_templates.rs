//! JSON shapes of a school's notification templates and their proto
//! conversions.

use chrono::{DateTime, Utc};
use proto::notify::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::instant;

/// A template to save: minijinja text using the kind's variables (an
/// unknown variable is an error).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// 1-500 characters; renders to one line of at most 200.
    pub subject: String,
    /// 1-10,000 characters.
    pub body: String,
}

impl TemplateBody {
    pub fn into_proto(self, kind: String, lang: String) -> pb::PutNotificationTemplateRequest {
        pb::PutNotificationTemplateRequest {
            kind,
            lang,
            subject: self.subject,
            body: self.body,
        }
    }
}

/// The template rendered with the kind's sample variables.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemplateSample {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationTemplate {
    /// `grades_published`, `invoice_issued`, `invoice_overdue` or
    /// `payment_receipt`.
    pub kind: String,
    /// ISO 639-1 (`en`).
    pub lang: String,
    pub subject: String,
    pub body: String,
    /// The school's own (true) or the built-in one (false).
    pub custom: bool,
    /// The variables the kind provides.
    pub variables: Vec<String>,
    pub sample: TemplateSample,
    /// When the school saved it; absent for the built-in template.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<pb::NotificationTemplate> for NotificationTemplate {
    fn from(t: pb::NotificationTemplate) -> Self {
        Self {
            kind: t.kind,
            lang: t.lang,
            subject: t.subject,
            body: t.body,
            custom: t.custom,
            variables: t.variables,
            sample: TemplateSample {
                subject: t.sample_subject,
                body: t.sample_body,
            },
            updated_at: instant(t.updated_at),
        }
    }
}
