//! A staff profile and a staff member as stored, as the proto carries
//! them, and the profile's event payload.

use chrono::{DateTime, NaiveDate, Utc};
use platform::wire::{date, timestamp};
use proto::events::v1 as ev;
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct ProfileRow {
    pub phone: Option<String>,
    pub subjects: Vec<String>,
    pub employee_no: String,
    pub hired_on: NaiveDate,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct StaffRow {
    pub user_id: Uuid,
    pub full_name: String,
    pub email: String,
    pub active: bool,
    pub profile: Option<ProfileRow>,
}

pub(crate) const PROFILE_COLS: &str =
    "p.phone, p.subjects, p.employee_no, p.hired_on, p.version, p.updated_at";

/// A teacher and their profile, if any (`users u LEFT JOIN staff_profiles p`).
pub(crate) fn member_select() -> String {
    format!(
        "SELECT u.id, u.full_name, u.email, u.active, {PROFILE_COLS} FROM users u \
         LEFT JOIN staff_profiles p ON p.school_id = u.school_id AND p.user_id = u.id \
         WHERE u.school_id = $1 AND u.role = 'teacher'"
    )
}

impl ProfileRow {
    pub(crate) fn from_row(r: &Row, at: usize) -> Result<Option<Self>, tokio_postgres::Error> {
        let Some(employee_no) = r.try_get::<_, Option<String>>(at + 2)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            phone: r.try_get(at)?,
            subjects: r.try_get(at + 1)?,
            employee_no,
            hired_on: r.try_get(at + 3)?,
            version: r.try_get(at + 4)?,
            updated_at: r.try_get(at + 5)?,
        }))
    }
}

impl StaffRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            user_id: r.try_get(0)?,
            full_name: r.try_get(1)?,
            email: r.try_get(2)?,
            active: r.try_get(3)?,
            profile: ProfileRow::from_row(r, 4)?,
        })
    }
}

pub(crate) fn saved(user_id: Uuid, p: &ProfileRow) -> ev::StaffProfileChanged {
    ev::StaffProfileChanged {
        user_id: user_id.to_string(),
        phone: p.phone.clone().unwrap_or_default(),
        subjects: p.subjects.clone(),
        employee_no: p.employee_no.clone(),
        hired_on: p.hired_on.format("%Y-%m-%d").to_string(),
        version: p.version,
    }
}

impl From<StaffRow> for pb::StaffMember {
    fn from(s: StaffRow) -> Self {
        Self {
            user_id: s.user_id.to_string(),
            full_name: s.full_name,
            email: s.email,
            active: s.active,
            profile: s.profile.map(|p| pb::StaffProfile {
                phone: p.phone.unwrap_or_default(),
                subjects: p.subjects,
                employee_no: p.employee_no,
                hired_on: Some(date(p.hired_on)),
                version: p.version,
                updated_at: Some(timestamp(p.updated_at)),
            }),
        }
    }
}
