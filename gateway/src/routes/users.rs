use actix_web::web;
use proto::students::v1 as pb;

use super::path_id;
use super::rpc::{created, ok, Reply, Rpc, ADMIN};
use crate::dto::accounts::{CreateUserBody, PasswordResetBody, UpdateUserBody, User};
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

/// Admin-only: a staff login's role (admin or teacher), or whether any
/// login may sign in. Either change ends every session of the user at once.
/// The school keeps at least one active admin (422 otherwise).
#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = UpdateUserBody,
    security(("bearer" = [])), params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = User), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn update(rpc: Rpc, id: web::Path<String>, body: JsonBody<UpdateUserBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto(path_id(&id)?);
    let user = rpc.users().update_user(rpc.request(msg)).await?;
    ok(User::from(user.into_inner()))
}

/// Admin-only: a temporary password for a login (staff, student or
/// guardian), which must be changed at the next sign-in; every session of
/// the user ends.
#[utoipa::path(post, path = "/users/{id}/password-reset", tag = "users",
    request_body = PasswordResetBody, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = User), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reset_password(
    rpc: Rpc,
    id: web::Path<String>,
    body: JsonBody<PasswordResetBody>,
) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::ResetPasswordRequest {
        user_id: path_id(&id)?.to_string(),
        temporary_password: body.0.temporary_password,
    };
    let user = rpc.users().reset_password(rpc.request(msg)).await?;
    ok(User::from(user.into_inner()))
}
