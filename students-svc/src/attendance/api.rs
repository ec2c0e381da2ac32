//! `AttendanceService`: teachers mark their courses' sessions, the office
//! overrides, staff and guardians read.

use deadpool_postgres::Pool;
use platform::caller::{Caller, Role};
use platform::service::ServiceError;
use proto::students::v1 as pb;
use tonic::{Request, Response};

use super::domain::{AttendanceRange, MarkKind, Marks, Session};
use super::model::{session, student_attendance};
use super::repo;
use crate::authz::{admin_only, staff_access, Access};
use crate::Reply;

#[derive(Clone)]
pub struct AttendanceApi {
    pool: Pool,
}

impl AttendanceApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl pb::attendance_service_server::AttendanceService for AttendanceApi {
    async fn mark_attendance(
        &self,
        req: Request<pb::MarkAttendanceRequest>,
    ) -> Reply<pb::AttendanceSession> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let m = Marks::try_from(req.into_inner())?;
        let rows = repo::mark_attendance(
            &self.pool,
            caller.school_id,
            caller.user_id,
            access,
            MarkKind::Mark,
            &m,
        )
        .await?;
        Ok(Response::new(session(&m.session, rows)))
    }

    async fn override_attendance(
        &self,
        req: Request<pb::OverrideAttendanceRequest>,
    ) -> Reply<pb::AttendanceSession> {
        let caller = Caller::of(&req)?;
        admin_only(&caller)?;
        let m = Marks::try_from(req.into_inner())?;
        let rows = repo::mark_attendance(
            &self.pool,
            caller.school_id,
            caller.user_id,
            Access::Any,
            MarkKind::Override,
            &m,
        )
        .await?;
        Ok(Response::new(session(&m.session, rows)))
    }

    async fn get_attendance_session(
        &self,
        req: Request<pb::GetAttendanceSessionRequest>,
    ) -> Reply<pb::AttendanceSession> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let s = Session::try_from(req.into_inner())?;
        let rows = repo::get_session(&self.pool, caller.school_id, access, &s).await?;
        Ok(Response::new(session(&s, rows)))
    }

    async fn get_student_attendance(
        &self,
        req: Request<pb::GetStudentAttendanceRequest>,
    ) -> Reply<pb::StudentAttendance> {
        let caller = Caller::of(&req)?;
        let r = AttendanceRange::try_from(req.into_inner())?;
        let access = match caller.role {
            Role::Student if caller.student_id == Some(r.student_id) => Access::Any,
            // Someone else's attendance is NOT_FOUND to a student or a
            // guardian, as their record is (see `students::api`).
            Role::Student => return Err(ServiceError::NotFound("student").into()),
            // A guardian reads only a linked child's, whether or not another
            // student with that id exists: the link is checked in the read.
            Role::Guardian => {
                return match repo::child_attendance(
                    &self.pool,
                    caller.school_id,
                    caller.user_id,
                    &r,
                )
                .await?
                {
                    Some(days) => Ok(Response::new(student_attendance(&r, days))),
                    None => Err(ServiceError::NotFound("student").into()),
                };
            }
            _ => staff_access(&caller)?,
        };
        let days = repo::student_attendance(&self.pool, caller.school_id, access, &r).await?;
        Ok(Response::new(student_attendance(&r, days)))
    }
}
