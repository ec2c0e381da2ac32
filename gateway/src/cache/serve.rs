//! The cached read path of one request: limit + lookup in one round trip,
//! then a hit, a single-flight load, or (Redis away) a bypass to the origin.

use std::sync::Arc;

use actix_web::{
    body::{BodySize, BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        header::{self, HeaderMap, HeaderName, HeaderValue},
        StatusCode,
    },
    middleware::Next,
    HttpRequest, HttpResponse,
};

use super::{etag, Cache, Entry, Join, Lookup, Plan, Stats, Tier};
use crate::{
    problem::ApiError,
    ratelimit::{refusal, write_headers, Budget, RateLimiter, RouteClass},
};

const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Hit,
    Miss,
    Bypass,
}

impl Outcome {
    const fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Hit => "HIT",
            Self::Miss => "MISS",
            Self::Bypass => "BYPASS",
        })
    }
}

/// Marks a cacheable route's answer. Tenant data: a browser may keep it but
/// must revalidate it (ETag, cheap 304) before each use, or it would show a
/// writer their own stale data; shared caches must not keep it at all.
pub fn mark(h: &mut HeaderMap, outcome: Outcome) {
    h.insert(X_CACHE, outcome.header());
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(header::VARY, HeaderValue::from_static("authorization"));
}

/// 200 with the body, or 304 when the client already holds this ETag.
fn respond(req: &HttpRequest, entry: &Entry, outcome: Outcome) -> HttpResponse {
    let mut res = if etag::matches(req.headers().get(header::IF_NONE_MATCH), &entry.etag) {
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::Ok()
            .content_type(mime_json())
            .body(entry.body.clone())
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&entry.etag) {
        h.insert(header::ETAG, v);
    }
    mark(h, outcome);
    res
}

fn mime_json() -> HeaderValue {
    HeaderValue::from_static("application/json")
}

fn serve(req: ServiceRequest, entry: &Entry, outcome: Outcome) -> ServiceResponse<BoxBody> {
    let res = respond(req.request(), entry, outcome);
    req.into_response(res)
}

async fn origin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    outcome: Outcome,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut res = next.call(req).await?.map_into_boxed_body();
    mark(res.headers_mut(), outcome);
    Ok(res)
}

/// Serves a cacheable GET under `plan`, spending `budget`.
pub async fn read(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    cache: &Cache,
    limiter: &RateLimiter,
    budget: &Budget,
    plan: &Plan,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let class = RouteClass::Read;
    let (decision, mut res) = match cache.lookup(budget, plan).await {
        Err(e) => match limiter.fallback(class, budget, &e) {
            // Redis is away: no generation to trust, so no cached copy either.
            Ok(d) if d.allowed => {
                Stats::bump(&cache.stats.bypasses);
                (d, origin(req, next, Outcome::Bypass).await?)
            }
            other => return Ok(req.into_response(refusal(class, limiter, other))),
        },
        Ok(Lookup::Revoked) => {
            crate::ratelimit::record(class, "allowed");
            return Ok(req.into_response(crate::problem::session_ended()));
        }
        Ok(Lookup::Refused(d)) => {
            crate::ratelimit::record(class, "refused");
            return Ok(req.into_response(refusal(class, limiter, Ok(d))));
        }
        Ok(Lookup::Current(d, entry, tier)) => {
            crate::ratelimit::record(class, "allowed");
            Stats::bump(match tier {
                Tier::Local => &cache.stats.hits_local,
                Tier::Redis => &cache.stats.hits_redis,
            });
            (d, serve(req, &entry, Outcome::Hit))
        }
        Ok(Lookup::Missing(d, generation)) => {
            crate::ratelimit::record(class, "allowed");
            (d, load(req, next, cache, plan, generation).await?)
        }
    };
    write_headers(res.headers_mut(), class, limiter, &decision);
    Ok(res)
}

async fn load(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    cache: &Cache,
    plan: &Plan,
    generation: String,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let stats = &cache.stats;
    let leader = match cache.join(plan, &generation) {
        Join::Ready(entry) => {
            Stats::bump(&stats.hits_local);
            return Ok(serve(req, &entry, Outcome::Hit));
        }
        Join::Follow(follower) => {
            Stats::bump(&stats.misses);
            return match follower.wait().await {
                Some(entry) => {
                    Stats::bump(&stats.coalesced);
                    Ok(serve(req, &entry, Outcome::Miss))
                }
                None => origin(req, next, Outcome::Miss).await,
            };
        }
        Join::Lead(leader) => leader,
    };
    Stats::bump(&stats.misses);
    Stats::bump(&stats.origin_loads);
    let res = next.call(req).await?;
    let small = matches!(res.response().body().size(),
        BodySize::Sized(n) if usize::try_from(n).is_ok_and(|n| n <= cache.settings.max_body_bytes));
    if res.status() != StatusCode::OK || !small {
        // Errors and oversized answers are passed on, never cached.
        leader.finish(None);
        let mut res = res.map_into_boxed_body();
        mark(res.headers_mut(), Outcome::Miss);
        return Ok(res);
    }
    let (http_req, res) = res.into_parts();
    let body = actix_web::body::to_bytes(res.into_body())
        .await
        .map_err(|_| ApiError::internal())?;
    let entry = Arc::new(Entry {
        generation,
        etag: etag::of(&body),
        body,
    });
    cache.store(plan, &entry).await;
    leader.finish(Some(entry.clone()));
    let res = respond(&http_req, &entry, Outcome::Miss);
    Ok(ServiceResponse::new(http_req, res))
}
