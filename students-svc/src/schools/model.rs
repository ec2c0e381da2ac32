//! A school as stored, as the proto carries it, and as its events carry it.

use chrono::{DateTime, Utc};
use platform::wire::timestamp;
use proto::events::v1::{self as ev, event::Payload};
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::events::{Aggregate, Pending};

#[derive(Clone, Debug)]
pub struct SchoolRow {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: DateTime<Utc>,
    pub time_zone: String,
    pub year_start_month: i16,
    pub year_start_day: i16,
    pub version: i64,
}

pub(crate) const SCHOOL_COLS: &str =
    "id, name, slug, created_at, time_zone, year_start_month, year_start_day, version";

impl SchoolRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            slug: r.try_get(2)?,
            created_at: r.try_get(3)?,
            time_zone: r.try_get(4)?,
            year_start_month: r.try_get(5)?,
            year_start_day: r.try_get(6)?,
            version: r.try_get(7)?,
        })
    }
}

impl From<SchoolRow> for pb::School {
    fn from(s: SchoolRow) -> Self {
        Self {
            id: s.id.to_string(),
            name: s.name,
            slug: s.slug,
            created_at: Some(timestamp(s.created_at)),
            time_zone: s.time_zone,
            year_start_month: u32::try_from(s.year_start_month).unwrap_or(9),
            year_start_day: u32::try_from(s.year_start_day).unwrap_or(1),
            version: s.version,
        }
    }
}

/// The school as carried by `school.*` events.
pub fn school_event(s: &SchoolRow) -> ev::SchoolChanged {
    ev::SchoolChanged {
        name: s.name.clone(),
        slug: s.slug.clone(),
        time_zone: s.time_zone.clone(),
        year_start_month: u32::try_from(s.year_start_month).unwrap_or(9),
        year_start_day: u32::try_from(s.year_start_day).unwrap_or(1),
        version: s.version,
    }
}

/// A `school.created` or `school.updated` event for `s`.
pub fn school_changed(s: &SchoolRow, created: bool) -> Pending {
    let aggregate = Aggregate {
        kind: "school",
        id: s.id,
    };
    if created {
        Pending::new(
            aggregate,
            "school.created",
            Payload::SchoolCreated(school_event(s)),
        )
    } else {
        Pending::new(
            aggregate,
            "school.updated",
            Payload::SchoolUpdated(school_event(s)),
        )
    }
}
