//! gRPC handlers: read the caller, parse the request into domain types,
//! authorise, call the repository, map the result. No SQL here.

use deadpool_postgres::Pool;
use platform::caller::{Caller, Role};
use proto::students::v1 as pb;
use tonic::{Request, Response, Status};

use crate::authz::{origin, require};
use crate::domain::{parse_id, NameList, NewStudent, NewUser, StudentFilter};
use crate::error::ServiceError;
use crate::requests::ParsedUpdate;
use crate::{guardians, passwords, repo};

#[derive(Clone)]
pub struct Api {
    pool: Pool,
}

impl Api {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }
}

type Reply<T> = Result<Response<T>, Status>;

/// Whose student records the caller may read.
enum StudentReach {
    /// Admins and teachers: any student of their school.
    Any,
    /// A guardian: only the students linked to their login, checked in the
    /// same statement as the read.
    ChildrenOf(uuid::Uuid),
}

/// Admins and teachers read any student of their school; a student reads only
/// their own record; a guardian only their linked children. Others get
/// PERMISSION_DENIED, whether or not the id exists.
fn may_read_student(caller: &Caller, id: uuid::Uuid) -> Result<StudentReach, ServiceError> {
    match caller.role {
        Role::Admin | Role::Teacher => Ok(StudentReach::Any),
        Role::Student if caller.student_id == Some(id) => Ok(StudentReach::Any),
        Role::Student => Err(ServiceError::PermissionDenied(
            "you may only read your own record",
        )),
        Role::Guardian => Ok(StudentReach::ChildrenOf(caller.user_id)),
    }
}

#[tonic::async_trait]
impl pb::school_service_server::SchoolService for Api {
    async fn create_school(
        &self,
        req: Request<pb::CreateSchoolRequest>,
    ) -> Reply<pb::CreateSchoolResponse> {
        let new = crate::domain::NewSchool::try_from(req.into_inner())?;
        let hash = passwords::hash(new.admin.password.expose().to_owned()).await?;
        let (school, admin) = repo::create_school(&self.pool, &new, &hash).await?;
        tracing::info!(school.id = %school.id, school.slug = %school.slug, "school created");
        Ok(Response::new(pb::CreateSchoolResponse {
            school: Some(school.into()),
            admin: Some(admin.into()),
        }))
    }
}

#[tonic::async_trait]
impl pb::auth_service_server::AuthService for Api {
    async fn login(&self, req: Request<pb::LoginRequest>) -> Reply<pb::LoginResponse> {
        const BAD: ServiceError =
            ServiceError::Unauthenticated("invalid school, e-mail or password");
        let r = req.into_inner();
        // Malformed credentials are simply wrong credentials: no hints.
        let (Ok(slug), Ok(email)) = (
            crate::domain::Slug::parse(&r.school_slug),
            crate::domain::Email::parse(&r.email),
        ) else {
            passwords::verify(r.password, None).await?;
            return Err(BAD.into());
        };
        if r.password.len() > 1024 {
            return Err(BAD.into());
        }
        let found = repo::find_login(&self.pool, &slug, &email).await?;
        let (user, hash) = match found {
            Some((u, h)) => (Some(u), Some(h)),
            None => (None, None),
        };
        let ok = passwords::verify(r.password, hash).await?;
        match user {
            Some(u) if ok && u.active => Ok(Response::new(pb::LoginResponse {
                user: Some(u.into()),
            })),
            _ => Err(BAD.into()),
        }
    }

    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> Reply<pb::User> {
        let caller = Caller::read(req.metadata())?;
        match repo::get_user(&self.pool, caller.school_id, caller.user_id).await? {
            Some(u) if u.active => Ok(Response::new(u.into())),
            _ => Err(ServiceError::Unauthenticated("the account no longer exists").into()),
        }
    }
}

#[tonic::async_trait]
impl pb::user_service_server::UserService for Api {
    async fn create_user(&self, req: Request<pb::CreateUserRequest>) -> Reply<pb::User> {
        let caller = Caller::read(req.metadata())?;
        require(&caller, &[Role::Admin])?;
        let new = NewUser::try_from(req.into_inner())?;
        let hash = passwords::hash(new.password.expose().to_owned()).await?;
        let user = repo::create_user(&self.pool, origin(&caller), &new, &hash).await?;
        Ok(Response::new(user.into()))
    }
}

#[tonic::async_trait]
impl pb::student_service_server::StudentService for Api {
    async fn create_student(&self, req: Request<pb::CreateStudentRequest>) -> Reply<pb::Student> {
        let caller = Caller::read(req.metadata())?;
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
        let caller = Caller::read(req.metadata())?;
        let id = parse_id("id", &req.get_ref().id)?;
        match may_read_student(&caller, id)? {
            StudentReach::Any => match repo::get_student(&self.pool, caller.school_id, id).await? {
                Some(s) => Ok(Response::new(s.into())),
                None => Err(ServiceError::NotFound("student").into()),
            },
            StudentReach::ChildrenOf(user_id) => {
                match guardians::repo::get_child(&self.pool, caller.school_id, user_id, id).await? {
                    Some(s) => Ok(Response::new(s.into())),
                    None => Err(ServiceError::PermissionDenied(
                        "you may only read your own children's records",
                    )
                    .into()),
                }
            }
        }
    }

    async fn update_student(&self, req: Request<pb::UpdateStudentRequest>) -> Reply<pb::Student> {
        let caller = Caller::read(req.metadata())?;
        require(&caller, &[Role::Admin])?;
        let u = ParsedUpdate::try_from(req.into_inner())?;
        let s =
            repo::update_student(&self.pool, origin(&caller), u.id, u.version, &u.patch).await?;
        Ok(Response::new(s.into()))
    }

    async fn archive_student(&self, req: Request<pb::ArchiveStudentRequest>) -> Reply<pb::Student> {
        let caller = Caller::read(req.metadata())?;
        require(&caller, &[Role::Admin])?;
        let id = parse_id("id", &req.get_ref().id)?;
        let s = repo::archive_student(&self.pool, origin(&caller), id).await?;
        Ok(Response::new(s.into()))
    }

    async fn import_students(
        &self,
        req: Request<tonic::Streaming<pb::ImportStudentsChunk>>,
    ) -> Reply<pb::ImportStudentsReport> {
        let caller = Caller::read(req.metadata())?;
        require(&caller, &[Role::Admin])?;
        let report = crate::import::run(
            &self.pool,
            origin(&caller),
            req.into_inner(),
            crate::import::csv_rows::Limits::default(),
        )
        .await?;
        Ok(Response::new(report))
    }

    async fn list_students(
        &self,
        req: Request<pb::ListStudentsRequest>,
    ) -> Reply<pb::ListStudentsResponse> {
        let caller = Caller::read(req.metadata())?;
        require(&caller, &[Role::Admin, Role::Teacher])?;
        let filter = StudentFilter::try_from(req.into_inner())?;
        let (rows, next) = repo::list_students(&self.pool, caller.school_id, &filter).await?;
        Ok(Response::new(pb::ListStudentsResponse {
            students: rows.into_iter().map(Into::into).collect(),
            page: Some(proto::common::v1::PageInfo {
                next_cursor: next
                    .map(|c| c.encode(NameList::Students))
                    .unwrap_or_default(),
            }),
        }))
    }
}
