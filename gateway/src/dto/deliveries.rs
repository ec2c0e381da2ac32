//! JSON shapes of the failed-deliveries admin routes and their proto
//! conversions.

use chrono::{DateTime, Utc};
use proto::notify::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{instant, uuid_or_nil, FieldErrors, Page, PageParams, Paged};
use crate::problem::ApiError;

const CHANNELS: [&str; 3] = ["sms", "email", "push"];

/// A delivery that did not go out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    /// `sms`, `email` or `push`.
    pub channel: String,
    /// `dead`, `failed`, or `queued` once retried.
    pub status: String,
    /// Masked: `+44********23`, `m***@example.org`; the user id for push.
    pub recipient: String,
    pub attempts: i32,
    /// A short reason without personal data.
    pub last_error: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<pb::Delivery> for Delivery {
    fn from(d: pb::Delivery) -> Self {
        Self {
            id: uuid_or_nil(&d.id),
            channel: d.channel,
            status: d.status,
            recipient: d.recipient,
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: instant(d.created_at),
            updated_at: instant(d.updated_at),
        }
    }
}

impl Paged for Delivery {
    const PAGE: &'static str = "DeliveryPage";
}

pub type DeliveryPage = Page<Delivery>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListDeliveriesParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub status: Option<String>,
    pub channel: Option<String>,
}

fn channel(e: &mut FieldErrors, raw: Option<&str>) -> String {
    match raw {
        None | Some("") => String::new(),
        Some(c) if CHANNELS.contains(&c) => c.to_owned(),
        Some(_) => {
            e.add("channel", "must be sms, email or push");
            String::new()
        }
    }
}

impl ListDeliveriesParams {
    pub fn into_proto(self) -> Result<pb::ListDeliveriesRequest, ApiError> {
        let mut e = FieldErrors::default();
        let page = self.page.parse(&mut e);
        let status = match self.status.as_deref() {
            Some(s @ ("dead" | "failed")) => s.to_owned(),
            _ => {
                e.add("status", "required: dead or failed");
                String::new()
            }
        };
        let channel = channel(&mut e, self.channel.as_deref());
        e.finish()?;
        Ok(pb::ListDeliveriesRequest {
            page: Some(page),
            status,
            channel,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryAllParams {
    pub channel: Option<String>,
}

impl RetryAllParams {
    pub fn into_proto(self) -> Result<pb::RetryAllDeliveriesRequest, ApiError> {
        let mut e = FieldErrors::default();
        let channel = channel(&mut e, self.channel.as_deref());
        e.finish()?;
        Ok(pb::RetryAllDeliveriesRequest { channel })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RetriedAll {
    /// Deliveries put back in the queue (at most 10,000 per call).
    pub requeued: u32,
}
