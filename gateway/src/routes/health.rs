use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde::Serialize;
use tonic_health::pb::{health_check_response::ServingStatus, HealthCheckRequest};

use crate::state::AppState;

/// Liveness: the process answers. No I/O, so it is also the bench's ceiling.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    students_svc: &'static str,
    redis: &'static str,
    /// The WebSocket fan-out's Redis subscriber.
    realtime: &'static str,
}

const CHECK_TIMEOUT: Duration = Duration::from_millis(500);

/// Readiness follows students-svc, without which nothing works. Redis is
/// reported but does not take the instance out of rotation: without it reads
/// bypass the cache and only login and expensive operations refuse (503), so
/// the answer is 200 `degraded` rather than 503. Likewise the realtime
/// subscriber: while it is away sockets stay open but receive nothing.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "ready, or degraded (Redis away)"), (status = 503)))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.shutting_down() {
        return HttpResponse::ServiceUnavailable().json(Readiness {
            status: "shutting_down",
            students_svc: "unknown",
            redis: "unknown",
            realtime: "unknown",
        });
    }
    let mut health = state.services.students_health.clone();
    let students = async {
        let check = health.check(HealthCheckRequest {
            service: String::new(),
        });
        matches!(
            tokio::time::timeout(CHECK_TIMEOUT, check).await,
            Ok(Ok(r)) if r.get_ref().status == ServingStatus::Serving as i32
        )
    };
    let redis = async {
        tokio::time::timeout(CHECK_TIMEOUT, platform::redis::ping(&state.redis))
            .await
            .unwrap_or(false)
    };
    let (students, redis) = tokio::join!(students, redis);
    let realtime = state.realtime.subscriber_connected();
    // What each readiness probe found, for alerts (the kubelet probes every
    // few seconds): 1 reachable, 0 not.
    for (dependency, ok) in [
        ("students_svc", students),
        ("redis", redis),
        ("realtime", realtime),
    ] {
        metrics::gauge!("gateway_dependency_up", "dependency" => dependency)
            .set(f64::from(u8::from(ok)));
    }
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = Readiness {
        status: match (students, redis && realtime) {
            (true, true) => "ready",
            (true, false) => "degraded",
            (false, _) => "not_ready",
        },
        students_svc: word(students),
        redis: word(redis),
        realtime: word(realtime),
    };
    if students {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus text on the admin listener: requests per route, rate-limit
/// decisions, what the cache did, and the WebSockets.
pub async fn metrics(
    stats: web::Data<crate::cache::Stats>,
    hub: web::Data<crate::realtime::Hub>,
    recorder: web::Data<metrics_exporter_prometheus::PrometheusHandle>,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(recorder.render() + &stats.render() + &hub.render())
}
