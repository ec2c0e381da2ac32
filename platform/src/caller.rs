//! The authenticated caller, as the gateway passes it to services.
//!
//! The gateway verifies the token and writes these metadata entries; services
//! believe them only with the assertion that vouches for them
//! ([`crate::trust`]), never because of where a call comes from. The tenant
//! therefore always comes from a verified token, never from a body.

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

/// Who a verified call is from, as `crate::trust`'s layer puts it in the
/// request's extensions (defined here, where it is read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    User(Caller),
    Operator,
}

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

    /// The caller of an incoming call, as the trust layer (`trust::VerifyLayer`)
    /// verified it: metadata alone is never believed. UNAUTHENTICATED when
    /// the call names no verified caller (it did not come through the
    /// gateway or another service holding the key).
    pub fn of<T>(req: &tonic::Request<T>) -> Result<Self, tonic::Status> {
        match req.extensions().get::<Verified>() {
            Some(Verified::User(c)) => Ok(*c),
            _ => Err(tonic::Status::unauthenticated("no verified caller")),
        }
    }

    /// Parses the caller entries of a call's headers (the assertion is
    /// [`crate::trust`]'s to check). A missing or malformed entry:
    /// UNAUTHENTICATED.
    pub fn from_headers(h: &http::HeaderMap) -> Result<Self, tonic::Status> {
        Self::parse(
            |k| h.get(k).and_then(|v| v.to_str().ok()),
            h.contains_key(STUDENT_ID),
        )
    }

    fn parse<'a>(
        get: impl Fn(&str) -> Option<&'a str>,
        has_student: bool,
    ) -> Result<Self, tonic::Status> {
        let get = |key: &str| -> Result<&'a str, tonic::Status> {
            get(key).ok_or_else(|| tonic::Status::unauthenticated(format!("missing {key}")))
        };
        let uuid = |key: &str| -> Result<Uuid, tonic::Status> {
            Uuid::parse_str(get(key)?)
                .map_err(|_| tonic::Status::unauthenticated(format!("malformed {key}")))
        };
        let role: Role = get(USER_ROLE)?
            .parse()
            .map_err(|_| tonic::Status::unauthenticated("malformed x-user-role"))?;
        let student_id = if has_student {
            Some(uuid(STUDENT_ID)?)
        } else {
            None
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
        assert_eq!(Caller::from_headers(&md.into_headers()).unwrap(), c);
    }

    #[test]
    fn rejects_missing_and_malformed_entries() {
        let mut md = http::HeaderMap::new();
        assert_eq!(
            Caller::from_headers(&md).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        md.insert(SCHOOL_ID, "not-a-uuid".parse().unwrap());
        md.insert(USER_ID, Uuid::nil().to_string().parse().unwrap());
        md.insert(USER_ROLE, "admin".parse().unwrap());
        assert_eq!(
            Caller::from_headers(&md).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        md.insert(SCHOOL_ID, Uuid::nil().to_string().parse().unwrap());
        md.insert(USER_ROLE, "root".parse().unwrap());
        assert!(Caller::from_headers(&md).is_err());
    }
}
