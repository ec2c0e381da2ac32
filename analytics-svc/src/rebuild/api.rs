//! `school.analytics.v1.AnalyticsAdminService`: operator actions, served on
//! the service's port but not exposed by the gateway, and answered only to a
//! call vouched for as the operator's (`platform::trust`).

use deadpool_postgres::Pool;
use proto::analytics::v1 as pb;
use tonic::{Request, Response, Status};

use super::{export::StudentsExport, rebuild, resolve};
use crate::domain::Thresholds;

pub struct AdminApi {
    pool: Pool,
    export: StudentsExport,
    thresholds: Thresholds,
    cache: Option<fred::prelude::Client>,
}

impl AdminApi {
    pub fn new(
        pool: Pool,
        export: StudentsExport,
        thresholds: Thresholds,
        cache: Option<fred::prelude::Client>,
    ) -> Self {
        Self {
            pool,
            export,
            thresholds,
            cache,
        }
    }
}

#[tonic::async_trait]
impl pb::analytics_admin_service_server::AnalyticsAdminService for AdminApi {
    async fn rebuild_school(
        &self,
        req: Request<pb::RebuildSchoolRequest>,
    ) -> Result<Response<pb::RebuildSchoolResponse>, Status> {
        platform::trust::require_operator(&req)?;
        let name = req.into_inner().school;
        if name.is_empty() {
            return Err(platform::service::ServiceError::invalid("school", "is required").into());
        }
        let school = resolve(&self.pool, &name).await?;
        let done = rebuild(&self.pool, &self.export, school, &self.thresholds).await?;
        if let Some(redis) = &self.cache {
            crate::handler::bump(redis, school).await;
        }
        Ok(Response::new(pb::RebuildSchoolResponse {
            school_id: done.school.to_string(),
            events_applied: done.events,
            elapsed_ms: done.elapsed_ms,
        }))
    }
}
