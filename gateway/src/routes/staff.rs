use actix_web::{web, HttpRequest, HttpResponse};
use platform::caller::Role;
use proto::students::v1 as pb;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::json::{query, JsonBody};
use crate::people_dto::{ListStaffParams, StaffMember, StaffPage, StaffProfileBody};
use crate::problem::{ApiError, Problem};
use crate::services::request;
use crate::state::AppState;

fn user_path_id(raw: &str) -> Result<Uuid, ApiError> {
    platform::text::parse_uuid(raw).ok_or_else(|| ApiError::field("user_id", "must be a UUID"))
}

/// Admin-only: create or replace the profile of a teacher user.
#[utoipa::path(put, path = "/api/v1/staff/{user_id}", tag = "staff", security(("bearer" = [])),
    params(("user_id" = uuid::Uuid, Path)), request_body = StaffProfileBody,
    responses((status = 200, body = StaffMember), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "no such user in the school"),
        (status = 409, body = Problem, description = "employee number taken"),
        (status = 422, body = Problem, description = "the user is not a teacher")))]
pub async fn save(
    state: web::Data<AppState>,
    auth: Authenticated,
    user_id: web::Path<String>,
    body: JsonBody<StaffProfileBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let msg = body.0.into_proto(user_path_id(&user_id)?)?;
    let s = state
        .services
        .staff
        .clone()
        .save_staff_profile(request(msg, Some(caller)))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(StaffMember::from(s)))
}

/// Admin-only: the school's teachers with their profiles, in name order.
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = StaffPage), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let caller = auth.require(&[Role::Admin])?;
    let params: ListStaffParams = query(&req)?;
    let reply = state
        .services
        .staff
        .clone()
        .list_staff(request(params.into_proto()?, Some(caller)))
        .await?
        .into_inner();
    let next = reply.page.map(|p| p.next_cursor).filter(|c| !c.is_empty());
    Ok(HttpResponse::Ok().json(StaffPage {
        items: reply.staff.into_iter().map(StaffMember::from).collect(),
        next_cursor: next,
    }))
}

/// One teacher with their profile: admins, or the teacher themself.
#[utoipa::path(get, path = "/api/v1/staff/{user_id}", tag = "staff", security(("bearer" = [])),
    params(("user_id" = uuid::Uuid, Path)),
    responses((status = 200, body = StaffMember), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = user_path_id(&user_id)?;
    let caller = &auth.0;
    match caller.role {
        Role::Admin => {}
        Role::Teacher if caller.user_id == id => {}
        _ => {
            return Err(ApiError::Forbidden(
                "only admins and the teacher themself may read a staff profile",
            ))
        }
    }
    let s = state
        .services
        .staff
        .clone()
        .get_staff_member(request(
            pb::GetStaffMemberRequest {
                user_id: id.to_string(),
            },
            Some(caller),
        ))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok().json(StaffMember::from(s)))
}
