use futures::future::join_all;
use platform::testing::redis::{cluster_url, redis_url};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

fn policy(s: &str) -> gateway::ratelimit::Policy {
    s.parse().unwrap()
}

#[tokio::test]
async fn limits_hold_exactly_across_two_instances_standalone() {
    limits_hold_exactly_across_two_instances(redis_url()).await;
}

#[tokio::test]
async fn limits_hold_exactly_across_two_instances_cluster() {
    limits_hold_exactly_across_two_instances(cluster_url()).await;
}

/// N + k concurrent reads (the cached path: limit and lookup in one script)
/// through two instances against a budget of N: exactly N pass.
async fn limits_hold_exactly_across_two_instances(redis: String) {
    let gw = spawn_configured(|c| {
        c.rate_limit_read = policy("5/60s");
        c.redis_url = redis;
    })
    .await;
    let (other, _stop) = spawn_gateway_with(gw.config.clone());
    wait_ready(&other).await;
    let admin = gw.admin(&crate::cache::unique("north")).await;
    let requests = (0..10).map(|i| {
        let base = if i % 2 == 0 { &gw.base } else { &other };
        gw.http
            .get(format!("{base}/api/v1/students"))
            .bearer_auth(&admin)
            .send()
    });
    let responses: Vec<_> = join_all(requests)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ok = responses
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert_eq!(ok, 5, "exactly the budget passes");
    for r in &responses {
        let h = r.headers();
        assert_eq!(h["ratelimit-policy"], "\"read\";q=5;w=60");
        assert!(h["ratelimit"].to_str().unwrap().starts_with("\"read\";r="));
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry), "{retry}");
        } else {
            assert_eq!(r.status(), StatusCode::OK);
        }
    }
    let denied = responses
        .into_iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .unwrap();
    problem(denied, 429, "rate_limited").await;
    // Probes are never limited.
    assert_eq!(
        gw.http
            .get(gw.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn login_is_limited_per_address_and_per_account() {
    let slug = format!("rl-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    // The test's own addresses, reported by a trusted proxy (this client).
    let ip = |n: u8| format!("198.51.{}.{n}", rand::random::<u8>());
    let gw = spawn_configured(|c| {
        c.rate_limit_login = policy("3/60s");
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    gw.create_school(&slug).await;
    let attempt = |from: String, email: String| {
        gw.http
            .post(gw.url("/api/v1/auth/login"))
            .header("x-forwarded-for", from)
            .json(&json!({"school": slug, "email": email, "password": "wrong password!"}))
            .send()
    };
    let victim = format!("admin@{slug}.test");
    let a = ip(1);
    for _ in 0..3 {
        let r = attempt(a.clone(), victim.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = attempt(a.clone(), victim.clone()).await.unwrap();
    assert!(r.headers().contains_key("retry-after"));
    problem(r, 429, "rate_limited").await;
    // Another address guessing the same account is refused too.
    let r = attempt(ip(2), victim.clone()).await.unwrap();
    problem(r, 429, "rate_limited").await;
    // A fresh address and account is not.
    let r = attempt(ip(3), format!("other@{slug}.test")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_redis_reads_fail_open_and_login_fails_closed() {
    let gw = spawn().await;
    let admin = gw.admin("north").await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("redis://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut config = gw.config.clone();
    config.redis_url = dead;
    let (base, _stop) = spawn_gateway_with(config);

    let started = std::time::Instant::now();
    let read = gw
        .http
        .get(format!("{base}/api/v1/students"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let login = gw
        .http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"school": "north", "email": "admin@north.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.headers()["retry-after"], "1");
    problem(login, 503, "unavailable").await;
    // Bounded by the Redis command timeout, not hanging.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
