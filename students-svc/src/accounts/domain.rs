//! A new staff login, parsed from its request.

use platform::caller::Role;
use platform::service::{nothing, ServiceError, Violations};
use proto::common::v1 as common;
use proto::students::v1 as pb;

use crate::values::{Email, NewPassword, PersonName};

pub struct NewUser {
    pub email: Email,
    pub password: NewPassword,
    pub full_name: PersonName,
    pub role: Role,
}

impl TryFrom<pb::CreateUserRequest> for NewUser {
    type Error = ServiceError;
    fn try_from(r: pb::CreateUserRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let email = v.take("email", Email::parse(&r.email));
        let password = v.take("password", NewPassword::parse(&r.password));
        let full_name = v.take("full_name", PersonName::parse(&r.full_name));
        let role = v.take(
            "role",
            match common::Role::try_from(r.role) {
                Ok(common::Role::Admin) => Ok(Role::Admin),
                Ok(common::Role::Teacher) => Ok(Role::Teacher),
                _ => Err("role must be admin or teacher".to_owned()),
            },
        );
        v.finish()?;
        match (email, password, full_name, role) {
            (Some(email), Some(password), Some(full_name), Some(role)) => Ok(Self {
                email,
                password,
                full_name,
                role,
            }),
            _ => Err(nothing()),
        }
    }
}
