use actix_web::{web, HttpRequest};
use platform::caller::Role;
use proto::notify::v1 as pb;

use super::path_id;
use super::rpc::{ok, Reply, Rpc};
use crate::dto::deliveries::{
    Delivery, DeliveryPage, ListDeliveriesParams, RetriedAll, RetryAllParams,
};
use crate::json::query;
use crate::problem::Problem;

const ADMIN: &[Role] = &[Role::Admin];

/// The school's deliveries that did not go out: `dead` (attempts exhausted,
/// or no provider configured) or `failed` (refused by the provider), newest
/// first, keyset-paginated; phone numbers and e-mail addresses masked.
#[utoipa::path(get, path = "/admin/deliveries", tag = "deliveries", security(("bearer" = [])),
    params(
        ("status" = String, Query, description = "dead | failed"),
        ("channel" = Option<String>, Query, description = "sms | email | push"),
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = DeliveryPage), (status = 400, body = Problem),
        (status = 403, body = Problem)))]
pub async fn list(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(ADMIN)?;
    let msg = query::<ListDeliveriesParams>(&req)?.into_proto()?;
    let r = rpc.deliveries().list_deliveries(rpc.request(msg)).await?;
    let r = r.into_inner();
    ok(DeliveryPage::new(r.deliveries, r.page))
}

/// Puts one dead or failed delivery back in the queue (due now, its
/// attempts reset). Another school's, or one that is not dead or failed:
/// 404.
#[utoipa::path(post, path = "/admin/deliveries/{id}/retry", tag = "deliveries",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Delivery), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn retry(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::RetryDeliveryRequest {
        id: path_id(&id)?.to_string(),
    };
    let r = rpc.deliveries().retry_delivery(rpc.request(msg)).await?;
    ok(Delivery::from(r.into_inner()))
}

/// Puts every dead or failed delivery of the school (of `channel`, when
/// given) back in the queue, at most 10,000 per call.
#[utoipa::path(post, path = "/admin/deliveries/retry-all", tag = "deliveries",
    security(("bearer" = [])),
    params(("channel" = Option<String>, Query, description = "sms | email | push")),
    responses((status = 200, body = RetriedAll), (status = 400, body = Problem),
        (status = 403, body = Problem)))]
pub async fn retry_all(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(ADMIN)?;
    let msg = query::<RetryAllParams>(&req)?.into_proto()?;
    let r = rpc
        .deliveries()
        .retry_all_deliveries(rpc.request(msg))
        .await?;
    ok(RetriedAll {
        requeued: r.into_inner().requeued,
    })
}
