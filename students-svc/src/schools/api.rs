//! `SchoolService`: an operator creates a school and its first admin.

use deadpool_postgres::Pool;
use proto::students::v1 as pb;
use tonic::{Request, Response};

use super::{domain::NewSchool, repo};
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
        let new = NewSchool::try_from(req.into_inner())?;
        let hash = passwords::hash(new.admin.password.expose().to_owned()).await?;
        let (school, admin) = repo::create_school(&self.pool, &new, &hash).await?;
        tracing::info!(school.id = %school.id, school.slug = %school.slug, "school created");
        Ok(Response::new(pb::CreateSchoolResponse {
            school: Some(school.into()),
            admin: Some(admin.into()),
        }))
    }
}
