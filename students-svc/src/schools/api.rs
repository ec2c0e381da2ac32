//! `SchoolService`: an operator creates a school and its first admin.

use deadpool_postgres::Pool;
use proto::students::v1 as pb;
use tonic::{Request, Response};

use platform::caller::Caller;
use platform::service::ServiceError;

use super::domain::{NewSchool, SettingsUpdate};
use super::repo;
use crate::authz::{admin_only, origin};
use crate::{passwords, Reply};

#[derive(Clone)]
pub struct SchoolApi {
    pool: Pool,
}

impl SchoolApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl pb::school_service_server::SchoolService for SchoolApi {
    async fn create_school(
        &self,
        req: Request<pb::CreateSchoolRequest>,
    ) -> Reply<pb::CreateSchoolResponse> {
        // The operator's action, whoever else can reach this port.
        platform::trust::require_operator(&req)?;
        let new = NewSchool::try_from(req.into_inner())?;
        let hash = passwords::hash(new.admin.password.expose().to_owned()).await?;
        let (school, admin) = repo::create_school(&self.pool, &new, &hash).await?;
        tracing::info!(school.id = %school.id, school.slug = %school.slug, "school created");
        Ok(Response::new(pb::CreateSchoolResponse {
            school: Some(school.into()),
            admin: Some(admin.into()),
        }))
    }

    async fn get_my_school(&self, req: Request<pb::GetMySchoolRequest>) -> Reply<pb::School> {
        let caller = Caller::of(&req)?;
        match repo::get_school(&self.pool, caller.school_id).await? {
            Some(s) => Ok(Response::new(s.into())),
            None => Err(ServiceError::NotFound("school").into()),
        }
    }

    async fn update_school_settings(
        &self,
        req: Request<pb::UpdateSchoolSettingsRequest>,
    ) -> Reply<pb::School> {
        let caller = Caller::of(&req)?;
        admin_only(&caller)?;
        let u = SettingsUpdate::try_from(req.into_inner())?;
        let s = repo::update_settings(&self.pool, origin(&caller), &u).await?;
        Ok(Response::new(s.into()))
    }
}
