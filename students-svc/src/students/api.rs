//! `StudentService`: read the caller, parse, authorise, call the
//! repository, map the rows. No SQL here.

use deadpool_postgres::Pool;
use platform::caller::{Caller, Role};
use platform::service::{parse_id, ServiceError};
use proto::students::v1 as pb;
use tonic::{Request, Response};

use super::domain::{NewStudent, ParsedUpdate, StudentFilter};
use super::{import, repo};
use crate::accounts::revocations::Revocations;
use crate::authz::{origin, require};
use crate::{passwords, Reply};

#[derive(Clone)]
pub struct StudentApi {
    pool: Pool,
    revocations: Revocations,
}

impl StudentApi {
    pub fn new(pool: Pool, revocations: Revocations) -> Self {
        Self { pool, revocations }
    }
}

/// Whose student records the caller may read.
enum StudentReach {
    /// Admins and teachers: any student of their school.
    Any,
    /// A guardian: only the students linked to their login, checked in the
    /// same statement as the read.
    ChildrenOf(uuid::Uuid),
}

/// Admins and teachers read any student of their school; a student reads only
/// their own record; a guardian only their linked children. Anyone else's
/// record is NOT_FOUND to them, whether or not the id exists: a student or
/// guardian editing an id learns nothing about which ids exist.
fn may_read_student(caller: &Caller, id: uuid::Uuid) -> Result<StudentReach, ServiceError> {
    match caller.role {
        Role::Admin | Role::Teacher => Ok(StudentReach::Any),
        Role::Student if caller.student_id == Some(id) => Ok(StudentReach::Any),
        Role::Student => Err(ServiceError::NotFound("student")),
        Role::Guardian => Ok(StudentReach::ChildrenOf(caller.user_id)),
    }
}

#[tonic::async_trait]
impl pb::student_service_server::StudentService for StudentApi {
    async fn create_student(&self, req: Request<pb::CreateStudentRequest>) -> Reply<pb::Student> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let new = NewStudent::try_from(req.into_inner())?;
        let hash = match &new.login {
            Some(l) => Some(passwords::hash(l.password.expose().to_owned()).await?),
            None => None,
        };
        let s = repo::create_student(&self.pool, origin(&caller), &new, hash.as_deref()).await?;
        Ok(Response::new(s.into()))
    }

    async fn get_student(&self, req: Request<pb::GetStudentRequest>) -> Reply<pb::Student> {
        let caller = Caller::of(&req)?;
        let id = parse_id("id", &req.get_ref().id)?;
        match may_read_student(&caller, id)? {
            StudentReach::Any => match repo::get_student(&self.pool, caller.school_id, id).await? {
                Some(s) => Ok(Response::new(s.into())),
                None => Err(ServiceError::NotFound("student").into()),
            },
            StudentReach::ChildrenOf(user_id) => {
                match repo::get_child(&self.pool, caller.school_id, user_id, id).await? {
                    Some(s) => Ok(Response::new(s.into())),
                    None => Err(ServiceError::NotFound("student").into()),
                }
            }
        }
    }

    async fn update_student(&self, req: Request<pb::UpdateStudentRequest>) -> Reply<pb::Student> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let u = ParsedUpdate::try_from(req.into_inner())?;
        let s =
            repo::update_student(&self.pool, origin(&caller), u.id, u.version, &u.patch).await?;
        Ok(Response::new(s.into()))
    }

    async fn archive_student(&self, req: Request<pb::ArchiveStudentRequest>) -> Reply<pb::Student> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let id = parse_id("id", &req.get_ref().id)?;
        let (s, login) = repo::archive_student(&self.pool, origin(&caller), id).await?;
        // The student's own login: its sessions ended with the archive.
        if let Some((user, epoch)) = login {
            self.revocations.epoch(caller.school_id, user, epoch);
        }
        Ok(Response::new(s.into()))
    }

    async fn import_students(
        &self,
        req: Request<tonic::Streaming<pb::ImportStudentsChunk>>,
    ) -> Reply<pb::ImportStudentsReport> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let report = import::run(
            &self.pool,
            origin(&caller),
            req.into_inner(),
            import::csv_rows::Limits::default(),
        )
        .await?;
        Ok(Response::new(report))
    }

    async fn list_students(
        &self,
        req: Request<pb::ListStudentsRequest>,
    ) -> Reply<pb::ListStudentsResponse> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin, Role::Teacher])?;
        let filter = StudentFilter::try_from(req.into_inner())?;
        let (rows, next) = repo::list_students(&self.pool, caller.school_id, &filter)
            .await?
            .into_parts();
        Ok(Response::new(pb::ListStudentsResponse {
            students: rows.into_iter().map(Into::into).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }
}
