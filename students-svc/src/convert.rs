//! Stored rows → proto messages.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use proto::common::v1 as common;
use proto::events::v1 as ev;
use proto::students::v1 as pb;

use crate::domain::role_to_proto;
use crate::repo::{SchoolRow, StudentRow, UserRow};

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub fn date(d: NaiveDate) -> common::Date {
    common::Date {
        year: d.year(),
        month: d.month(),
        day: d.day(),
    }
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

impl From<UserRow> for pb::User {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id.to_string(),
            school_id: u.school_id.to_string(),
            email: u.email,
            full_name: u.full_name,
            role: role_to_proto(u.role).into(),
            active: u.active,
            student_id: u.student_id.map(|id| id.to_string()).unwrap_or_default(),
        }
    }
}

impl From<StudentRow> for pb::Student {
    fn from(s: StudentRow) -> Self {
        Self {
            id: s.id.to_string(),
            school_id: s.school_id.to_string(),
            admission_no: s.admission_no,
            given_name: s.given_name,
            family_name: s.family_name,
            date_of_birth: Some(date(s.date_of_birth)),
            grade_level: i32::from(s.grade_level),
            section: s.section,
            status: s.status.to_proto().into(),
            version: s.version,
            created_at: Some(timestamp(s.created_at)),
            updated_at: Some(timestamp(s.updated_at)),
            archived_at: s.archived_at.map(timestamp),
        }
    }
}

/// The student as carried by `student.*` events.
pub fn student_event(s: &StudentRow) -> ev::StudentChanged {
    ev::StudentChanged {
        student_id: s.id.to_string(),
        admission_no: s.admission_no.clone(),
        given_name: s.given_name.clone(),
        family_name: s.family_name.clone(),
        grade_level: i32::from(s.grade_level),
        section: s.section.clone(),
        status: s.status.as_str().to_owned(),
        version: s.version,
        archived: s.archived_at.is_some(),
    }
}

pub fn user_event(u: &UserRow) -> ev::UserCreated {
    ev::UserCreated {
        user_id: u.id.to_string(),
        role: u.role.as_str().to_owned(),
        full_name: u.full_name.clone(),
    }
}
