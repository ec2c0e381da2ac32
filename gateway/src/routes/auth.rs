//! Sign-in and sessions: `POST /auth/login`, `/auth/refresh`, `/auth/logout`,
//! `/auth/password`, `GET /auth/me`. Access tokens last minutes
//! (`JWT_TTL_SECS`); students-svc keeps the sessions and their rotating
//! refresh tokens (docs/ARCHITECTURE.md, "Sessions").

use actix_web::{web, HttpRequest, HttpResponse};
use platform::caller::{Caller, Role};
use proto::students::v1 as pb;
use serde::Deserialize;
use utoipa::IntoParams;

use super::rpc::{ok, Reply};
use crate::auth::{Session, SignedIn};
use crate::dto::accounts::{LoginBody, PasswordBody, RefreshBody, TokenResponse, User};
use crate::dto::instant;
use crate::json::{query, JsonBody};
use crate::problem::{ApiError, Problem};
use crate::ratelimit::{refusal, RateLimiter, RouteClass};
use crate::services::request;
use crate::state::AppState;

/// Exchange school slug, e-mail and password for an access token and a
/// refresh token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem),
        (status = 429, body = Problem)))]
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
    tokens(&state, reply)
}

/// Spend a refresh token for a new access token and the next refresh token.
/// The user is read as they are now (role, school, still allowed to sign
/// in); a refresh token used twice ends its session.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses((status = 200, body = TokenResponse), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn refresh(state: web::Data<AppState>, body: JsonBody<RefreshBody>) -> Reply {
    let mut auth = state.services.auth.clone();
    let reply = auth
        .refresh(request(
            pb::RefreshRequest {
                refresh_token: body.0.refresh_token,
            },
            None,
        ))
        .await?
        .into_inner();
    tokens(&state, reply)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogoutParams {
    /// true: end every session of the user (every device), not only this one.
    #[serde(default)]
    pub everywhere: bool,
}

/// End this session (its access and refresh tokens), or every session of
/// the user. Effective on every gateway within a second.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    params(LogoutParams),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn logout(req: HttpRequest, state: web::Data<AppState>, who: SignedIn) -> Reply {
    let params = query::<LogoutParams>(&req)?;
    let mut auth = state.services.auth.clone();
    auth.logout(request(
        pb::LogoutRequest {
            session_id: who.session.id.to_string(),
            everywhere: params.everywhere,
        },
        Some(&who.caller),
    ))
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the password (the current one is required). Every session of the
/// user ends, on every device; the answer is this device's new session.
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = PasswordBody,
    security(("bearer" = [])),
    responses((status = 200, body = TokenResponse), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn password(
    state: web::Data<AppState>,
    who: SignedIn,
    body: JsonBody<PasswordBody>,
) -> Reply {
    let mut auth = state.services.auth.clone();
    let reply = auth
        .change_password(request(body.0.into_proto(), Some(&who.caller)))
        .await?
        .into_inner();
    tokens(&state, reply)
}

/// The signed-in user (also while the password must be changed).
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = Problem)))]
pub async fn me(state: web::Data<AppState>, who: SignedIn) -> Reply {
    let mut auth = state.services.auth.clone();
    let user = auth
        .who_am_i(request(pb::WhoAmIRequest {}, Some(&who.caller)))
        .await?;
    ok(User::from(user.into_inner()))
}

/// The access token for a session students-svc started or renewed.
fn tokens(state: &AppState, reply: pb::LoginResponse) -> Reply {
    const FAILED: ApiError = ApiError::Unauthenticated("sign-in failed");
    let user = reply.user.ok_or(FAILED)?;
    let session = reply.session.ok_or(FAILED)?;
    let dto = User::from(user);
    let caller = Caller {
        school_id: dto.school_id,
        user_id: dto.id,
        role: dto.role.map(Role::from).ok_or(FAILED)?,
        student_id: dto.student_id,
    };
    let id = session.id.parse().map_err(|_| FAILED)?;
    let claims = Session {
        id,
        epoch: session.epoch,
        must_change_password: session.must_change_password,
    };
    let token = state.tokens.issue(&caller, &claims).map_err(|e| {
        tracing::error!(error = %e, "cannot sign token");
        ApiError::internal()
    })?;
    ok(TokenResponse {
        access_token: token,
        token_type: "Bearer".into(),
        expires_in: state.tokens.ttl().as_secs(),
        refresh_token: session.refresh_token,
        refresh_expires_at: instant(session.refresh_expires_at),
        must_change_password: session.must_change_password,
        user: dto,
    })
}
