//! Who may do what: the role checks every gRPC service starts with, and the
//! course access rule shared by courses, attendance and grades. One module,
//! so authorization is read in one place and no service imports another's
//! API to reuse a check.

use deadpool_postgres::GenericClient;
use platform::caller::{Caller, Role};
use uuid::Uuid;

use crate::events::Origin;
use platform::service::ServiceError;

const ROLE_DENIED: &str = "your role may not perform this action";

/// The caller's role must be one of `allowed`.
pub fn require(caller: &Caller, allowed: &[Role]) -> Result<(), ServiceError> {
    if allowed.contains(&caller.role) {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(ROLE_DENIED))
    }
}

/// Admins only.
pub fn admin_only(caller: &Caller) -> Result<(), ServiceError> {
    require(caller, &[Role::Admin])
}

/// The tenant and user a change is recorded for.
pub fn origin(caller: &Caller) -> Origin {
    Origin::user(caller.school_id, caller.user_id)
}

/// Which courses a member of staff reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Admins: every course of their school.
    Any,
    /// Teachers: the courses they teach.
    TeacherOf(Uuid),
}

impl Access {
    /// The course whose teacher is `course_teacher` is within reach.
    pub fn check(self, course_teacher: Uuid) -> Result<(), ServiceError> {
        match self {
            Self::TeacherOf(t) if t != course_teacher => Err(ServiceError::PermissionDenied(
                "you may only access the courses you teach",
            )),
            _ => Ok(()),
        }
    }
}

/// Admins reach every course; teachers only the courses they teach; other
/// roles none.
pub fn staff_access(caller: &Caller) -> Result<Access, ServiceError> {
    match caller.role {
        Role::Admin => Ok(Access::Any),
        Role::Teacher => Ok(Access::TeacherOf(caller.user_id)),
        Role::Student | Role::Guardian => Err(ServiceError::PermissionDenied(ROLE_DENIED)),
    }
}

/// The course exists in the school (else NOT_FOUND) and `access` reaches it
/// (else PERMISSION_DENIED): one statement.
pub async fn accessible_course<C: GenericClient>(
    c: &C,
    school_id: Uuid,
    course_id: Uuid,
    access: Access,
) -> Result<(), ServiceError> {
    let stmt = c
        .prepare_cached("SELECT teacher_id FROM courses WHERE school_id = $1 AND id = $2")
        .await?;
    match c.query_opt(&stmt, &[&school_id, &course_id]).await? {
        None => Err(ServiceError::NotFound("course")),
        Some(r) => access.check(r.try_get(0)?),
    }
}
