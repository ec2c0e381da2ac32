use platform::testing::redis::cluster_url;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn request_ids_timing_and_security_headers() {
    let gw = spawn().await;
    let r = gw
        .http
        .get(gw.url("/healthz"))
        .header("x-request-id", "client-id-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-id-42");
    assert!(r.headers()["x-response-time"]
        .to_str()
        .unwrap()
        .ends_with("ms"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert!(r.headers().contains_key("content-security-policy"));

    let spoofed = gw
        .http
        .get(gw.url("/healthz"))
        .header(
            "x-request-id",
            "bad id\twith spaces and way too long ".repeat(3),
        )
        .send()
        .await
        .unwrap();
    let id = spoofed.headers()["x-request-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "replaced by a generated id: {id}"
    );

    let generated = gw.http.get(gw.url("/api/v1/auth/me")).send().await.unwrap();
    let header = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = generated.json().await.unwrap();
    assert_eq!(body["request_id"], header.as_str());
}

#[tokio::test]
async fn cors_allow_list_and_compression() {
    let gw = spawn().await;
    let preflight = |origin: &'static str| {
        gw.http
            .request(reqwest::Method::OPTIONS, gw.url("/api/v1/students"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight("https://app.example.test").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.test"
    );
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(!denied.headers().contains_key("access-control-allow-origin"));

    let admin = gw.admin("north").await;
    for i in 0..20 {
        gw.create_student(&admin, &format!("A-{i}"), "Ada").await;
    }
    let r = gw
        .http
        .get(gw.url("/api/v1/students?limit=20"))
        .bearer_auth(&admin)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let gw = spawn().await;
    let doc: Value = gw
        .http
        .get(gw.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/students",
        "/api/v1/students/{id}",
        "/api/v1/auth/login",
        "/api/v1/schools",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["components"]["schemas"].get("Problem").is_some());
}

#[tokio::test]
async fn readiness_follows_dependencies() {
    let gw = spawn().await;
    let ready = gw.http.get(gw.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    // A gateway whose students-svc and Redis are unreachable is alive but
    // not ready, and says which dependency is missing, quickly.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    let redis_dead = format!("redis://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut config = gw.config.clone();
    config.students_url = dead;
    config.redis_url = redis_dead;
    let (base, _stop) = spawn_gateway_with(config);
    let live = gw.http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let started = std::time::Instant::now();
    let r = gw.http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["students_svc"], "unavailable");
    assert_eq!(body["redis"], "unavailable");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));

    // API calls to the missing service answer 503 with a retryable code.
    let token = gateway::auth::Tokens::new(&gw.config)
        .issue_unrecorded(&platform::caller::Caller {
            school_id: uuid::Uuid::now_v7(),
            user_id: uuid::Uuid::now_v7(),
            role: platform::caller::Role::Admin,
            student_id: None,
        })
        .unwrap();
    let r = gw
        .http
        .get(format!("{base}/api/v1/students"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let body = problem(r, 503, "unavailable").await;
    assert_eq!(
        body["detail"],
        "a service is temporarily unavailable; retry shortly"
    );
}

/// The same client settings reach a Redis Cluster (`redis-cluster://` URL):
/// `make test` starts one beside the standalone server.
#[tokio::test]
async fn readiness_over_a_redis_cluster() {
    let gw = spawn_configured(|c| c.redis_url = cluster_url()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = gw.http.get(gw.url("/readyz")).send().await.unwrap();
        if r.status() == StatusCode::OK {
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["redis"], "ok");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not ready over the cluster: {}",
            r.text().await.unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
