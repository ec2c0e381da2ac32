//! DeliveryAdminService: admins of the school only.

use deadpool_postgres::Pool;
use platform::{
    caller::{Caller, Role},
    service::{parse_id, ServiceError},
};
use proto::notify::v1 as pb;
use tonic::{Request, Response, Status};

use super::domain::{retry_all_channel, ListRequest};
use super::model::Row;
use super::repo;

#[derive(Clone)]
pub struct DeliveryAdminApi {
    pool: Pool,
}

impl DeliveryAdminApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn admin(caller: &Caller) -> Result<(), ServiceError> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied(
            "only the school's admins see and retry failed deliveries",
        ))
    }
}

#[tonic::async_trait]
impl pb::delivery_admin_service_server::DeliveryAdminService for DeliveryAdminApi {
    async fn list_deliveries(
        &self,
        req: Request<pb::ListDeliveriesRequest>,
    ) -> Reply<pb::ListDeliveriesResponse> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let q = ListRequest::try_from(req.into_inner())?;
        let page = repo::list(&self.pool, caller.school_id, &q).await?;
        let (rows, next) = page.into_parts();
        Ok(Response::new(pb::ListDeliveriesResponse {
            deliveries: rows.into_iter().map(Row::into_proto).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }

    async fn retry_delivery(&self, req: Request<pb::RetryDeliveryRequest>) -> Reply<pb::Delivery> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let row = repo::retry(&self.pool, caller.school_id, id)
            .await?
            .ok_or(ServiceError::NotFound("failed delivery"))?;
        Ok(Response::new(row.into_proto()))
    }

    async fn retry_all_deliveries(
        &self,
        req: Request<pb::RetryAllDeliveriesRequest>,
    ) -> Reply<pb::RetryAllDeliveriesResponse> {
        let caller = Caller::of(&req)?;
        admin(&caller)?;
        let channel = retry_all_channel(req.get_ref())?;
        let n = repo::retry_all(&self.pool, caller.school_id, channel.as_deref()).await?;
        Ok(Response::new(pb::RetryAllDeliveriesResponse {
            requeued: u32::try_from(n).unwrap_or(u32::MAX),
        }))
    }
}
