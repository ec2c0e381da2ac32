//! Schools (tenants): created by the operator; each signed-in user reads
//! their own, and its admin changes its settings (time zone, school year).

use actix_web::{web, FromRequest, HttpRequest};
use platform::caller::Role;
use proto::students::v1 as pb;
use secrecy::ExposeSecret;

use super::rpc::{created, ok, Reply, Rpc, ADMIN};
use crate::auth::require_operator;
use crate::dto::schools::{CreateSchoolBody, CreatedSchool, School, UpdateSchoolBody};
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
    // The services believe the operator only with the gateway's word for it.
    let mut call = request(b.into_proto()?, None);
    platform::trust::as_operator(&mut call);
    let reply = schools.create_school(call).await?;
    created(CreatedSchool::from(reply.into_inner()))
}

/// Every signed-in role.
const ANYONE: &[Role] = &[Role::Admin, Role::Teacher, Role::Student, Role::Guardian];

/// The caller's own school (the one their token names) and its settings.
#[utoipa::path(get, path = "/school", tag = "schools", security(("bearer" = [])),
    responses((status = 200, body = School)))]
pub async fn get(rpc: Rpc) -> Reply {
    rpc.require(ANYONE)?;
    let s = rpc
        .schools()
        .get_my_school(rpc.request(pb::GetMySchoolRequest {}))
        .await?;
    ok(School::from(s.into_inner()))
}

/// Admin: change the school's time zone and/or the day its school year
/// starts; `version` must be the one last read. Dashboards follow within a
/// second (analytics-svc applies the change from its event).
#[utoipa::path(patch, path = "/school", tag = "schools", security(("bearer" = [])),
    request_body = UpdateSchoolBody,
    responses((status = 200, body = School), (status = 400, body = Problem),
        (status = 403, body = Problem),
        (status = 409, body = Problem, description = "stale version")))]
pub async fn update(rpc: Rpc, body: JsonBody<UpdateSchoolBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto()?;
    let s = rpc
        .schools()
        .update_school_settings(rpc.request(msg))
        .await?;
    ok(School::from(s.into_inner()))
}
