//! JSON shapes of logins and users (`/auth`, `/users`) and their proto
//! conversions.

use chrono::{DateTime, Utc};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{opt_uuid, uuid_or_nil};

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Teacher,
    Student,
    Guardian,
}

impl Role {
    fn from_proto(v: i32) -> Option<Self> {
        match common::Role::try_from(v) {
            Ok(common::Role::Admin) => Some(Self::Admin),
            Ok(common::Role::Teacher) => Some(Self::Teacher),
            Ok(common::Role::Student) => Some(Self::Student),
            Ok(common::Role::Guardian) => Some(Self::Guardian),
            _ => None,
        }
    }

    pub fn to_proto(self) -> common::Role {
        match self {
            Self::Admin => common::Role::Admin,
            Self::Teacher => common::Role::Teacher,
            Self::Student => common::Role::Student,
            Self::Guardian => common::Role::Guardian,
        }
    }
}

impl From<Role> for platform::caller::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => Self::Admin,
            Role::Teacher => Self::Teacher,
            Role::Student => Self::Student,
            Role::Guardian => Self::Guardian,
        }
    }
}

// A portal login, created with a student or a guardian. (A `//` comment:
// a doc comment would become the schema's description.)
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLogin {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The school's slug.
    pub school: String,
    pub email: String,
    pub password: String,
}

impl LoginBody {
    pub fn into_proto(self) -> pb::LoginRequest {
        pb::LoginRequest {
            school_slug: self.school,
            email: self.email,
            password: self.password,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires (minutes): renew it with
    /// the refresh token before then.
    pub expires_in: u64,
    /// Single use: `POST /auth/refresh` spends it for the next pair. Using a
    /// spent one again ends the session.
    pub refresh_token: String,
    /// When the session ends unless the user signs in again.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// Set after an admin's password reset: until `POST /auth/password`,
    /// every other route answers 403 `password_change_required`.
    pub must_change_password: bool,
    pub user: User,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutBody {
    /// End every session of the user, not only this one.
    #[serde(default)]
    pub everywhere: bool,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub current_password: String,
    pub new_password: String,
}

impl PasswordBody {
    pub fn into_proto(self) -> pb::ChangePasswordRequest {
        pb::ChangePasswordRequest {
            current_password: self.current_password,
            new_password: self.new_password,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    /// admin or teacher (staff logins only).
    pub role: Option<Role>,
    /// false: the login can no longer sign in.
    pub active: Option<bool>,
}

impl UpdateUserBody {
    pub fn into_proto(self, user_id: Uuid) -> pb::UpdateUserRequest {
        pb::UpdateUserRequest {
            user_id: user_id.to_string(),
            role: self.role.map(|r| r.to_proto().into()),
            active: self.active,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetBody {
    /// Given to the user; it must be changed at the next sign-in.
    pub temporary_password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub school_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Option<Role>,
    /// For student logins: their student record.
    pub student_id: Option<Uuid>,
    /// false: deactivated by an admin; it cannot sign in.
    pub active: bool,
}

impl From<pb::User> for User {
    fn from(u: pb::User) -> Self {
        Self {
            id: uuid_or_nil(&u.id),
            school_id: uuid_or_nil(&u.school_id),
            email: u.email,
            full_name: u.full_name,
            role: Role::from_proto(u.role),
            student_id: opt_uuid(&u.student_id),
            active: u.active,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    pub email: String,
    pub password: String,
    pub full_name: String,
    /// admin or teacher.
    pub role: Role,
}

impl CreateUserBody {
    pub fn into_proto(self) -> pb::CreateUserRequest {
        pb::CreateUserRequest {
            email: self.email,
            password: self.password,
            full_name: self.full_name,
            role: self.role.to_proto().into(),
        }
    }
}
