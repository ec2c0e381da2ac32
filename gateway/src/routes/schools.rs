use actix_web::{web, FromRequest, HttpRequest};
use secrecy::ExposeSecret;

use super::rpc::{created, Reply};
use crate::auth::require_operator;
use crate::dto::schools::{CreateSchoolBody, CreatedSchool};
use crate::json::JsonBody;
use crate::problem::Problem;
use crate::services::request;
use crate::state::AppState;

/// Operator-only: create a school (tenant) and its first admin.
#[utoipa::path(post, path = "/schools", tag = "schools", request_body = CreateSchoolBody,
    security(("operator" = [])),
    responses((status = 201, body = CreatedSchool), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 409, body = Problem)))]
pub async fn create(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Reply {
    // Authenticate before reading the body: anonymous callers learn nothing
    // about its validation. (The operator is no caller of a school: the call
    // carries none.)
    require_operator(&req, state.operator_token.expose_secret())?;
    let JsonBody(b) =
        JsonBody::<CreateSchoolBody>::from_request(&req, &mut payload.into_inner()).await?;
    let mut schools = state.services.schools.clone();
    let reply = schools.create_school(request(b.into_proto(), None)).await?;
    created(CreatedSchool::from(reply.into_inner()))
}
