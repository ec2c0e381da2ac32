//! The Redis edge of every API request: authenticate once, spend the rate
//! limit, and for cacheable reads look the answer up in the same round trip;
//! after a write, bump the cache generations it touched before answering.

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web, HttpMessage,
};
use platform::caller::Caller;

use crate::{
    auth::{bearer, upgrade_token, Session, Tokens, VerifiedCaller},
    cache::{
        rules,
        serve::{self, Outcome},
        Cache, Stats,
    },
    ratelimit::{refusal, subject, write_headers, RateLimiter, RouteClass, SessionCheck},
};

/// Verifies the bearer token, if any, once per request: the `Authenticated`
/// extractor reuses the result. The WebSocket upgrade may carry it in its
/// subprotocols (that route only), so its budget is the user's too.
fn authenticate(req: &ServiceRequest) -> Option<(Caller, Session)> {
    let tokens = req.app_data::<web::Data<Tokens>>()?;
    let token = if req.path() == crate::routes::ws::PATH {
        upgrade_token(req.request())
    } else {
        bearer(req.request())
    };
    let (caller, session) = tokens.verify(token?).ok()?;
    req.extensions_mut().insert(VerifiedCaller(caller, session));
    Some((caller, session))
}

pub async fn edge(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let class = RouteClass::of(req.method(), req.path());
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    let (Some(class), Some(limiter)) = (class, limiter) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let signed_in = authenticate(&req);
    let caller = signed_in.map(|(c, _)| c);
    let mut budget = limiter.budget(
        class,
        &subject(&req, class, caller.as_ref(), &limiter.trusted_proxies),
    );
    // The session's revocation keys ride along in the same script call.
    if limiter.check_sessions {
        budget.session = signed_in.map(|(c, s)| SessionCheck::new(&c, s.id, s.epoch));
    }
    let cache = req.app_data::<web::Data<Cache>>().cloned();
    let (Some(cache), Some(caller)) = (cache, caller) else {
        return limited(req, next, &limiter, class, &budget).await;
    };
    if class == RouteClass::Read {
        let plan = rules::read_plan(
            &cache.settings.ttls,
            req.path(),
            req.query_string(),
            &caller,
        );
        return match plan {
            Some(plan) if cache.settings.enabled => {
                serve::read(req, next, &cache, &limiter, &budget, &plan).await
            }
            Some(_) => {
                Stats::bump(&cache.stats.bypasses);
                let mut res = limited(req, next, &limiter, class, &budget).await?;
                if res.status().is_success() {
                    serve::mark(res.headers_mut(), Outcome::Bypass);
                }
                Ok(res)
            }
            None => limited(req, next, &limiter, class, &budget).await,
        };
    }
    let generations = rules::invalidations(req.method(), req.path(), &caller);
    let res = limited(req, next, &limiter, class, &budget).await?;
    // 4xx wrote nothing; anything else (even a 5xx or a timeout) may have.
    if !generations.is_empty() && !res.status().is_client_error() {
        cache.into_inner().invalidate(generations).await;
    }
    Ok(res)
}

/// The plain path: spend the budget, then call the route.
async fn limited(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    limiter: &RateLimiter,
    class: RouteClass,
    budget: &crate::ratelimit::Budget,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match limiter.check(class, budget).await {
        Ok(d) if d.revoked => Ok(req.into_response(crate::problem::session_ended())),
        Ok(d) if d.allowed => {
            let mut res = next.call(req).await?.map_into_boxed_body();
            write_headers(res.headers_mut(), class, limiter, &d);
            Ok(res)
        }
        other => Ok(req.into_response(refusal(class, limiter, other))),
    }
}
