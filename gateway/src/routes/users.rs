use actix_web::{web, HttpResponse};
use platform::caller::Role;
use proto::students::v1 as pb;

use crate::auth::Authenticated;
use crate::dto::{CreateUserBody, User};
use crate::json::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::services::request;
use crate::state::AppState;

/// Admin-only: create a staff login (admin or teacher).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserBody,
    security(("bearer" = [])),
    responses((status = 201, body = User), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: JsonBody<CreateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let b = body.0;
    let user = state
        .services
        .users
        .clone()
        .create_user(request(
            pb::CreateUserRequest {
                email: b.email,
                password: b.password,
                full_name: b.full_name,
                role: b.role.to_proto().into(),
            },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(User::from(user)))
}
