//! A user as stored, as the proto carries it, and as its event carries it.

use platform::caller::Role;
use platform::service::ServiceError;
use proto::common::v1 as common;
use proto::events::v1 as ev;
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub active: bool,
    pub student_id: Option<Uuid>,
}

pub(crate) const USER_COLS: &str = "id, school_id, email, full_name, role, active, student_id";

impl UserRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self, ServiceError> {
        let role: &str = r.try_get(4)?;
        Ok(Self {
            id: r.try_get(0)?,
            school_id: r.try_get(1)?,
            email: r.try_get(2)?,
            full_name: r.try_get(3)?,
            role: role
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown role {role:?} in users"))?,
            active: r.try_get(5)?,
            student_id: r.try_get(6)?,
        })
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

pub fn user_event(u: &UserRow) -> ev::UserCreated {
    ev::UserCreated {
        user_id: u.id.to_string(),
        role: u.role.as_str().to_owned(),
        full_name: u.full_name.clone(),
    }
}

pub fn role_to_proto(r: Role) -> common::Role {
    match r {
        Role::Admin => common::Role::Admin,
        Role::Teacher => common::Role::Teacher,
        Role::Student => common::Role::Student,
        Role::Guardian => common::Role::Guardian,
    }
}
