use super::rpc::{created, Reply, Rpc, ADMIN};
use crate::dto::accounts::{CreateUserBody, User};
use crate::json::JsonBody;
use crate::problem::Problem;

/// Admin-only: create a staff login (admin or teacher).
#[utoipa::path(post, path = "/users", tag = "users", request_body = CreateUserBody,
    security(("bearer" = [])),
    responses((status = 201, body = User), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create(rpc: Rpc, body: JsonBody<CreateUserBody>) -> Reply {
    rpc.require(ADMIN)?;
    let user = rpc
        .users()
        .create_user(rpc.request(body.0.into_proto()))
        .await?;
    created(User::from(user.into_inner()))
}
