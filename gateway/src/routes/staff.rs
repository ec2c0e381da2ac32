use actix_web::{web, HttpRequest};
use platform::caller::Role;
use proto::students::v1 as pb;

use super::named_path_id;
use super::rpc::{ok, Reply, Rpc, ADMIN};
use crate::dto::staff::{StaffMember, StaffPage, StaffProfileBody};
use crate::dto::PageParams;
use crate::json::{query, JsonBody};
use crate::problem::{ApiError, Problem};

/// Admin-only: create or replace the profile of a teacher user.
#[utoipa::path(put, path = "/staff/{user_id}", tag = "staff", security(("bearer" = [])),
    params(("user_id" = uuid::Uuid, Path)), request_body = StaffProfileBody,
    responses((status = 200, body = StaffMember), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "no such user in the school"),
        (status = 409, body = Problem, description = "employee number taken"),
        (status = 422, body = Problem, description = "the user is not a teacher")))]
pub async fn save(rpc: Rpc, user_id: web::Path<String>, body: JsonBody<StaffProfileBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = body.0.into_proto(named_path_id("user_id", &user_id)?)?;
    let s = rpc.staff().save_staff_profile(rpc.request(msg)).await?;
    ok(StaffMember::from(s.into_inner()))
}

/// Admin-only: the school's teachers with their profiles, in name order.
#[utoipa::path(get, path = "/staff", tag = "staff", security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "1-100, default 25"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses((status = 200, body = StaffPage), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(req: HttpRequest, rpc: Rpc) -> Reply {
    rpc.require(ADMIN)?;
    let page = query::<PageParams>(&req)?.into_proto()?;
    let msg = pb::ListStaffRequest { page: Some(page) };
    let r = rpc.staff().list_staff(rpc.request(msg)).await?.into_inner();
    ok(StaffPage::new(r.staff, r.page))
}

/// One teacher with their profile: admins, or the teacher themself.
#[utoipa::path(get, path = "/staff/{user_id}", tag = "staff", security(("bearer" = [])),
    params(("user_id" = uuid::Uuid, Path)),
    responses((status = 200, body = StaffMember), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(rpc: Rpc, user_id: web::Path<String>) -> Reply {
    let id = named_path_id("user_id", &user_id)?;
    let caller = rpc.caller();
    match caller.role {
        Role::Admin => {}
        Role::Teacher if caller.user_id == id => {}
        _ => {
            return Err(ApiError::Forbidden(
                "only admins and the teacher themself may read a staff profile",
            ))
        }
    }
    let msg = pb::GetStaffMemberRequest {
        user_id: id.to_string(),
    };
    let s = rpc.staff().get_staff_member(rpc.request(msg)).await?;
    ok(StaffMember::from(s.into_inner()))
}
