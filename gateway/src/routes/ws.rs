//! `GET /api/v1/ws`: the realtime WebSocket. Checks happen before the
//! upgrade so a refused client gets a plain problem+json answer: Origin
//! (403), token (401), then the school's subscription (503). The rate limit
//! (a read) was spent by the edge middleware.

use actix_web::{http::header, web, HttpRequest, HttpResponse};

use crate::{
    auth::{upgrade_token, Tokens, WS_BEARER_PROTOCOL},
    problem::ApiError,
    realtime::{socket, Hub, JoinError},
};

/// The full path (the edge middleware reads the token differently here);
/// the handler's attribute gives it within the `/api/v1` scope.
pub const PATH: &str = "/api/v1/ws";

/// Opens the realtime WebSocket. The access token goes in
/// `Authorization: Bearer …` or, from browsers, as the subprotocol pair
/// `bearer, <token>` (the server answers with `bearer`); never in the URL.
/// Messages are JSON envelopes `{id, school, target, kind, payload,
/// sent_at}`; see docs/ARCHITECTURE.md for close codes.
#[utoipa::path(get, path = "/ws", tag = "realtime",
    security(("bearer" = [])),
    responses(
        (status = 101, description = "switched to the WebSocket protocol"),
        (status = 400, description = "not a WebSocket upgrade", body = crate::problem::Problem),
        (status = 401, description = "missing or invalid token", body = crate::problem::Problem),
        (status = 403, description = "Origin not allowed", body = crate::problem::Problem),
        (status = 429, body = crate::problem::Problem),
        (status = 503, description = "realtime unavailable or shutting down", body = crate::problem::Problem),
    ))]
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    tokens: web::Data<Tokens>,
    hub: web::Data<Hub>,
) -> Result<HttpResponse, ApiError> {
    let origin = req.headers().get(header::ORIGIN).map(|o| o.to_str());
    let allowed = match origin {
        None => hub.origin_allowed(None),
        Some(Ok(o)) => hub.origin_allowed(Some(o)),
        Some(Err(_)) => false,
    };
    if !allowed {
        return Err(ApiError::Forbidden("this origin may not open a WebSocket"));
    }
    let token = upgrade_token(&req).ok_or(ApiError::Unauthenticated(
        "a bearer access token is required (Authorization or the `bearer` subprotocol)",
    ))?;
    let (caller, signed_in, expires_at) = tokens.verify_with_expiry(token)?;
    if signed_in.must_change_password {
        return Err(ApiError::PasswordChangeRequired);
    }
    // Validates the handshake; nothing is sent until the 101 is returned.
    let (response, session, stream) =
        actix_ws::handle_with_protocols(&req, body, &[WS_BEARER_PROTOCOL])
            .map_err(|_| ApiError::NotWebSocket)?;
    let member = hub.into_inner().join(&caller).await.map_err(|e| match e {
        JoinError::ShuttingDown => ApiError::Unavailable("the server is shutting down"),
        JoinError::Subscribe(e) => {
            tracing::warn!(error = %e, school.id = %caller.school_id, "realtime subscribe failed");
            ApiError::Unavailable("realtime is unavailable; retry shortly")
        }
    })?;
    let stream = stream.max_frame_size(member.max_client_frame_bytes());
    actix_web::rt::spawn(socket::run(session, stream, member, expires_at));
    Ok(response)
}
