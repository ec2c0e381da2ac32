//! A school as stored, and as the proto carries it.

use chrono::{DateTime, Utc};
use platform::wire::timestamp;
use proto::students::v1 as pb;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct SchoolRow {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: DateTime<Utc>,
}

impl From<SchoolRow> for pb::School {
    fn from(s: SchoolRow) -> Self {
        Self {
            id: s.id.to_string(),
            name: s.name,
            slug: s.slug,
            created_at: Some(timestamp(s.created_at)),
        }
    }
}
