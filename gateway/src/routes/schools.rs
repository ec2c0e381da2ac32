use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use proto::students::v1 as pb;
use secrecy::ExposeSecret;

use crate::auth::require_operator;
use crate::dto::{CreateSchoolBody, CreatedSchool};
use crate::json::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::services::request;
use crate::state::AppState;

/// Operator-only: create a school (tenant) and its first admin.
#[utoipa::path(post, path = "/api/v1/schools", tag = "schools", request_body = CreateSchoolBody,
    security(("operator" = [])),
    responses((status = 201, body = CreatedSchool), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // Authenticate before reading the body: anonymous callers learn nothing
    // about its validation.
    require_operator(&req, state.operator_token.expose_secret())?;
    let JsonBody(b) =
        JsonBody::<CreateSchoolBody>::from_request(&req, &mut payload.into_inner()).await?;
    let reply = state
        .services
        .schools
        .clone()
        .create_school(request(
            pb::CreateSchoolRequest {
                name: b.name,
                slug: b.slug,
                admin_email: b.admin.email,
                admin_password: b.admin.password,
                admin_full_name: b.admin.full_name,
            },
            None,
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Created().json(CreatedSchool::from(reply)))
}
