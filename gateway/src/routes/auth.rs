use actix_web::web;
use platform::caller::{Caller, Role};
use proto::students::v1 as pb;

use super::rpc::{ok, Reply, Rpc};
use crate::dto::accounts::{LoginBody, TokenResponse, User};
use crate::json::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::ratelimit::{refusal, RateLimiter, RouteClass};
use crate::services::request;
use crate::state::AppState;

/// Exchange school slug, e-mail and password for an access token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem)))]
pub async fn login(
    state: web::Data<AppState>,
    limiter: web::Data<RateLimiter>,
    body: JsonBody<LoginBody>,
) -> Reply {
    let b = body.0;
    // Per account as well as per IP (the middleware): guessing one account's
    // password from many addresses is limited too. The key lives in the
    // school's slot; a malformed slug cannot log in anyway.
    let slug = b.school.trim().to_ascii_lowercase();
    if slug.len() <= 40 && slug.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
        let key = format!(
            "rl:{{login:{slug}}}:acct:{}",
            b.email
                .trim()
                .to_lowercase()
                .chars()
                .take(254)
                .collect::<String>()
        );
        let budget = limiter.budget(RouteClass::Login, &key);
        match limiter.check(RouteClass::Login, &budget).await {
            Ok(d) if d.allowed => {}
            other => return Ok(refusal(RouteClass::Login, &limiter, other)),
        }
    }
    // No caller yet: the call carries none.
    let mut auth = state.services.auth.clone();
    let reply = auth
        .login(request(b.into_proto(), None))
        .await?
        .into_inner();
    let user = reply
        .user
        .ok_or(ApiError::Unauthenticated("login failed"))?;
    let dto = User::from(user);
    let caller = Caller {
        school_id: dto.school_id,
        user_id: dto.id,
        role: dto
            .role
            .map(Role::from)
            .ok_or(ApiError::Unauthenticated("login failed"))?,
        student_id: dto.student_id,
    };
    let token = state.tokens.issue(&caller).map_err(|e| {
        tracing::error!(error = %e, "cannot sign token");
        ApiError::internal()
    })?;
    ok(TokenResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: state.tokens.ttl().as_secs(),
        user: dto,
    })
}

/// The signed-in user.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = Problem)))]
pub async fn me(rpc: Rpc) -> Reply {
    let user = rpc
        .auth()
        .who_am_i(rpc.request(pb::WhoAmIRequest {}))
        .await?;
    ok(User::from(user.into_inner()))
}
