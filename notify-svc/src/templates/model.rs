//! A template as stored and as the API shows it.

use chrono::{DateTime, Utc};
use platform::wire::timestamp;
use proto::notify::v1 as pb;

use super::domain::{Lang, NoticeKind, Template};

/// A school's override, or the built-in template (`updated_at` `None`).
pub struct Stored {
    pub kind: NoticeKind,
    pub lang: Lang,
    pub template: Template,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Stored {
    pub fn into_proto(self) -> pb::NotificationTemplate {
        let sample = self.template.validate(self.kind).ok();
        let variables = self
            .kind
            .sample()
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        pb::NotificationTemplate {
            kind: self.kind.as_str().to_owned(),
            lang: self.lang.as_str().to_owned(),
            custom: self.updated_at.is_some(),
            variables,
            sample_subject: sample
                .as_ref()
                .map(|s| s.subject.clone())
                .unwrap_or_default(),
            sample_body: sample.map(|s| s.body).unwrap_or_default(),
            subject: self.template.subject,
            body: self.template.body,
            updated_at: self.updated_at.map(timestamp),
        }
    }
}
