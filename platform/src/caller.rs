//! The authenticated caller, as the gateway passes it to services.
//!
//! The gateway verifies the token and writes these metadata entries; services
//! trust them because only the gateway can reach them (network policy). The
//! tenant therefore always comes from a verified token, never from a body.

use std::{fmt, str::FromStr};

use tonic::metadata::{MetadataMap, MetadataValue};
use uuid::Uuid;

pub const SCHOOL_ID: &str = "x-school-id";
pub const USER_ID: &str = "x-user-id";
pub const USER_ROLE: &str = "x-user-role";
pub const STUDENT_ID: &str = "x-student-id";
pub const REQUEST_ID: &str = "x-request-id";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Teacher,
    Student,
    Guardian,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Teacher => "teacher",
            Role::Student => "student",
            Role::Guardian => "guardian",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "teacher" => Ok(Role::Teacher),
            "student" => Ok(Role::Student),
            "guardian" => Ok(Role::Guardian),
            _ => Err(UnknownRole),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role")]
pub struct UnknownRole;

/// Who is calling, within which school.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub school_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    /// Set when `role` is student: the student record this login belongs to.
    pub student_id: Option<Uuid>,
}

impl Caller {
    /// Writes the caller into outgoing request metadata.
    pub fn write(&self, md: &mut MetadataMap) {
        md.insert(SCHOOL_ID, uuid_value(self.school_id));
        md.insert(USER_ID, uuid_value(self.user_id));
        md.insert(USER_ROLE, MetadataValue::from_static(self.role.as_str()));
        if let Some(id) = self.student_id {
            md.insert(STUDENT_ID, uuid_value(id));
        }
    }

    /// Reads the caller from incoming metadata. A missing or malformed entry
    /// means the request did not come through the gateway: UNAUTHENTICATED.
    pub fn read(md: &MetadataMap) -> Result<Self, tonic::Status> {
        let get = |key: &str| -> Result<&str, tonic::Status> {
            md.get(key)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| tonic::Status::unauthenticated(format!("missing {key}")))
        };
        let uuid = |key: &str| -> Result<Uuid, tonic::Status> {
            Uuid::parse_str(get(key)?)
                .map_err(|_| tonic::Status::unauthenticated(format!("malformed {key}")))
        };
        let role: Role = get(USER_ROLE)?
            .parse()
            .map_err(|_| tonic::Status::unauthenticated("malformed x-user-role"))?;
        let student_id = match md.get(STUDENT_ID) {
            Some(_) => Some(uuid(STUDENT_ID)?),
            None => None,
        };
        Ok(Caller {
            school_id: uuid(SCHOOL_ID)?,
            user_id: uuid(USER_ID)?,
            role,
            student_id,
        })
    }
}

fn uuid_value(id: Uuid) -> MetadataValue<tonic::metadata::Ascii> {
    let mut buf = Uuid::encode_buffer();
    let s = id.hyphenated().encode_lower(&mut buf);
    // A hyphenated UUID is always valid ASCII metadata.
    MetadataValue::try_from(&*s).unwrap_or_else(|_| MetadataValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_metadata() {
        let c = Caller {
            school_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            role: Role::Student,
            student_id: Some(Uuid::now_v7()),
        };
        let mut md = MetadataMap::new();
        c.write(&mut md);
        assert_eq!(Caller::read(&md).unwrap(), c);
    }

    #[test]
    fn rejects_missing_and_malformed_entries() {
        let mut md = MetadataMap::new();
        assert_eq!(
            Caller::read(&md).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        md.insert(SCHOOL_ID, "not-a-uuid".parse().unwrap());
        md.insert(USER_ID, Uuid::nil().to_string().parse().unwrap());
        md.insert(USER_ROLE, "admin".parse().unwrap());
        assert_eq!(
            Caller::read(&md).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        md.insert(SCHOOL_ID, Uuid::nil().to_string().parse().unwrap());
        md.insert(USER_ROLE, "root".parse().unwrap());
        assert!(Caller::read(&md).is_err());
    }
}
