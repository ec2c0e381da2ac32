//! The response cache against real Redis, standalone and cluster: scoping,
//! read-your-writes, single-flight, ETags, outages and failover.

use std::{
    sync::atomic::Ordering::Relaxed,
    time::{Duration, Instant},
};

use futures::future::join_all;
use platform::testing::{
    eventually,
    redis::{cluster_url, redis_url},
    PrivateRedis, PrivateRedisCluster,
};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn x_cache(r: &Response) -> &str {
    r.headers()
        .get("x-cache")
        .map_or("none", |v| v.to_str().unwrap())
}

async fn no_answer_crosses_schools_or_roles(redis_url: String) {
    let gw = spawn_configured(|c| c.redis_url = redis_url).await;
    let north_slug = unique("north");
    let north = gw.admin(&north_slug).await;
    let south = gw.admin(&unique("south")).await;
    gw.create_student(&north, "N-1", "Nora").await;
    gw.create_student(&south, "S-1", "Sam").await;
    let names = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["given_name"].as_str().unwrap().to_owned())
            .collect()
    };
    for round in 0..2 {
        // Same URL, two schools: each sees its own, cached or not.
        let a = gw.get("/api/v1/students?limit=10", &north).await;
        let expect = if round == 0 { "MISS" } else { "HIT" };
        assert_eq!(x_cache(&a), expect);
        assert_eq!(a.headers()["cache-control"], "private, no-cache");
        assert_eq!(names(a.json().await.unwrap()), ["Nora"]);
        let b = gw.get("/api/v1/students?limit=10", &south).await;
        assert_eq!(x_cache(&b), expect);
        assert_eq!(names(b.json().await.unwrap()), ["Sam"]);
    }
    // Same URL, two roles: a teacher's answer is keyed apart from the admin's.
    let teacher = gw.teacher(&north_slug, &north).await;
    let t = gw.get("/api/v1/students?limit=10", &teacher).await;
    assert_eq!(
        x_cache(&t),
        "MISS",
        "a teacher never gets the admin's entry"
    );
    // A student reads only self, and never another student's cached copy.
    let slug = unique("pupils");
    let admin = gw.admin(&slug).await;
    let mut ids = Vec::new();
    for n in 0..2 {
        let body = new_student(&format!("P-{n}"), &format!("Pupil{n}"));
        let mut body = body.as_object().unwrap().clone();
        body.insert(
            "login".into(),
            json!({"email": format!("p{n}@{slug}.test"), "password": PASSWORD}),
        );
        let r = gw
            .post("/api/v1/students", &admin, Value::Object(body))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let p0 = gw.login(&slug, &format!("p0@{slug}.test")).await;
    let p1 = gw.login(&slug, &format!("p1@{slug}.test")).await;
    let path0 = format!("/api/v1/students/{}", ids[0]);
    assert_eq!(gw.get(&path0, &admin).await.status(), StatusCode::OK);
    let own = gw.get(&path0, &p0).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(
        x_cache(&own),
        "MISS",
        "the admin's copy is not the student's"
    );
    let own = gw.get(&path0, &p0).await;
    assert_eq!(x_cache(&own), "HIT");
    let other = gw.get(&path0, &p1).await;
    problem(other, 404, "not_found").await;
}

#[tokio::test]
async fn no_answer_crosses_schools_or_roles_standalone() {
    no_answer_crosses_schools_or_roles(redis_url()).await;
}

#[tokio::test]
async fn no_answer_crosses_schools_or_roles_cluster() {
    no_answer_crosses_schools_or_roles(cluster_url()).await;
}

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// Writes through one instance while readers hammer the key through two:
/// after each write, the writer reads its own write from either instance.
async fn writer_reads_its_writes(redis_url: String) {
    let gw = spawn_configured(|c| c.redis_url = redis_url).await;
    let other = spawn_instance(gw.config.clone());
    wait_ready(&other.base).await;
    let admin = gw.admin(&unique("w")).await;
    let s = gw.create_student(&admin, "W-1", "Wren").await;
    let path = format!("/api/v1/students/{}", s["id"].as_str().unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..16)
        .map(|i| {
            let (http, url, token, stop) = (
                gw.http.clone(),
                format!("{}{path}", if i % 2 == 0 { &gw.base } else { &other.base }),
                admin.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut n = 0u32;
                while !stop.load(Relaxed) {
                    let r = http.get(&url).bearer_auth(&token).send().await.unwrap();
                    assert_eq!(r.status(), StatusCode::OK);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut version = s["version"].as_i64().unwrap();
    for round in 0..25 {
        let name = format!("Wren{round}");
        let r = gw
            .patch(
                &path,
                &admin,
                json!({"version": version, "given_name": name}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        version = r.json::<Value>().await.unwrap()["version"]
            .as_i64()
            .unwrap();
        for base in [&gw.base, &other.base] {
            let r = gw
                .http
                .get(format!("{base}{path}"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            let got: Value = r.json().await.unwrap();
            assert_eq!(got["version"], version, "stale read after write {round}");
            assert_eq!(got["given_name"], name.as_str());
        }
        let list: Value = gw
            .get("/api/v1/students", &admin)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"][0]["given_name"], name.as_str(), "stale list");
    }
    stop.store(true, Relaxed);
    let reads: u32 = join_all(readers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    assert!(reads > 25, "the readers ran ({reads})");
    let hits = gw.stats.hits() + other.stats.hits();
    assert!(hits > 0, "concurrent readers were served from the cache");
}

#[tokio::test]
async fn writer_reads_its_writes_standalone() {
    writer_reads_its_writes(redis_url()).await;
}

#[tokio::test]
async fn writer_reads_its_writes_cluster() {
    writer_reads_its_writes(cluster_url()).await;
}

/// A hot key expiring under 200 concurrent requests per instance is loaded
/// from the origin at most once per instance.
#[tokio::test]
async fn an_expiring_hot_key_is_loaded_once_per_instance() {
    let gw = spawn_configured(|c| {
        c.cache_ttl_record_secs = 1;
        c.cache_local_ttl_secs = 1;
    })
    .await;
    let other = spawn_instance(gw.config.clone());
    wait_ready(&other.base).await;
    let admin = gw.admin(&unique("hot")).await;
    let s = gw.create_student(&admin, "H-1", "Hana").await;
    let path = format!("/api/v1/students/{}", s["id"].as_str().unwrap());
    assert_eq!(x_cache(&gw.get(&path, &admin).await), "MISS");
    assert_eq!(x_cache(&gw.get(&path, &admin).await), "HIT");
    // Wait for the entry to expire: the next read must be a miss.
    let redis = platform::redis::connect(&redis_url(), &Default::default()).unwrap();
    fred::interfaces::ClientLike::wait_for_connect(&redis)
        .await
        .unwrap();
    let key = format!(
        "c:{{school:{}}}:v:student:{}:admin:-",
        s_school(&gw, &admin).await,
        s["id"].as_str().unwrap()
    );
    eventually("the entry to expire", Duration::from_secs(5), || async {
        !fred::interfaces::KeysInterface::exists::<bool, _>(&redis, key.as_str())
            .await
            .unwrap()
    })
    .await;
    let before = [
        gw.stats.origin_loads.load(Relaxed),
        other.stats.origin_loads.load(Relaxed),
    ];
    let requests = (0..400).map(|i| {
        let base = if i % 2 == 0 { &gw.base } else { &other.base };
        gw.http
            .get(format!("{base}{path}"))
            .bearer_auth(&admin)
            .send()
    });
    let responses = join_all(requests).await;
    let mut bodies = std::collections::HashSet::new();
    for r in responses {
        let r = r.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        bodies.insert(r.text().await.unwrap());
    }
    assert_eq!(bodies.len(), 1, "one answer for everyone");
    let loads = [
        gw.stats.origin_loads.load(Relaxed) - before[0],
        other.stats.origin_loads.load(Relaxed) - before[1],
    ];
    assert!(
        loads.iter().all(|&n| n <= 1),
        "origin calls per instance: {loads:?}"
    );
    assert!(
        loads.iter().sum::<u64>() >= 1,
        "the expired entry was reloaded"
    );
}

async fn s_school(gw: &TestGateway, token: &str) -> String {
    let me: Value = gw.get("/api/v1/auth/me", token).await.json().await.unwrap();
    me["school_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn etags_revalidate_and_bad_input_does_not_break_anything() {
    let mut redis = PrivateRedis::start().unwrap();
    let gw = spawn_configured(|c| {
        c.redis_url = redis.url();
        c.rate_limit_read = "3/60s".parse().unwrap();
    })
    .await;
    let admin = gw.admin(&unique("etag")).await;
    let s = gw.create_student(&admin, "E-1", "Eve").await;
    let path = format!("/api/v1/students/{}", s["id"].as_str().unwrap());
    let first = gw.get(&path, &admin).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let conditional = |tag: &'static str, etag: String| {
        gw.http
            .get(gw.url(&path))
            .bearer_auth(&admin)
            .header(
                "if-none-match",
                if tag.is_empty() { etag } else { tag.to_owned() },
            )
            .send()
    };
    let r = conditional("", etag.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(r.headers()["etag"], etag.as_str());
    assert_eq!(x_cache(&r), "HIT");
    assert!(r.bytes().await.unwrap().is_empty());
    // Malformed validators are ignored: a full answer, never a wrong 304.
    let r = conditional("\"unterminated, W/", String::new())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["given_name"], "Eve");
    // The read budget (3) is spent: a 4th read is refused whatever it sends.
    let r = conditional("", etag.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);

    // Spoofed X-Forwarded-For from an untrusted peer buys no new budget.
    for n in 0..4 {
        let r = gw
            .http
            .get(gw.url("/api/v1/students"))
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .send()
            .await
            .unwrap();
        let expect = if n < 3 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(r.status(), expect, "anonymous request {n}");
    }
    // A fresh budget (Redis restarted empty) for the remaining checks.
    redis.restart().unwrap();
    // A huge query string is refused cleanly; the server keeps serving.
    let huge = format!("/api/v1/students?q={}", "a".repeat(20_000));
    let r = gw.get(&huge, &admin).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let long_q = format!("/api/v1/students?q={}", "a".repeat(2_000));
    let r = gw.get(&long_q, &admin).await;
    problem(r, 400, "invalid_argument").await;
    eventually(
        "reads after the restart",
        Duration::from_secs(10),
        || async { gw.get(&path, &admin).await.status() == StatusCode::OK },
    )
    .await;
}

/// Redis dies mid-test: reads go to the origin within the command timeout,
/// login fails closed, readiness says degraded; Redis returns: caching and
/// limits resume without a gateway restart.
#[tokio::test]
async fn a_redis_outage_degrades_and_recovers() {
    let mut redis = PrivateRedis::start().unwrap();
    let gw = spawn_configured(|c| c.redis_url = redis.url()).await;
    let slug = unique("outage");
    let admin = gw.admin(&slug).await;
    let s = gw.create_student(&admin, "O-1", "Otto").await;
    let path = format!("/api/v1/students/{}", s["id"].as_str().unwrap());
    gw.get(&path, &admin).await;
    assert_eq!(x_cache(&gw.get(&path, &admin).await), "HIT");

    redis.kill();
    for _ in 0..5 {
        let started = Instant::now();
        let r = gw.get(&path, &admin).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(x_cache(&r), "BYPASS", "no unverifiable cached copy");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
    let started = Instant::now();
    let login = gw
        .http
        .post(gw.url("/api/v1/auth/login"))
        .json(&json!({"school": slug, "email": format!("admin@{slug}.test"), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(login.headers()["retry-after"], "1");
    problem(login, 503, "unavailable").await;
    let ready = gw.http.get(gw.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK, "degraded, not down");
    let body: Value = ready.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["redis"].as_str()),
        (Some("degraded"), Some("unavailable"))
    );

    redis.restart().unwrap();
    eventually("the cache to resume", Duration::from_secs(15), || async {
        x_cache(&gw.get(&path, &admin).await) == "HIT"
    })
    .await;
    let login = gw
        .http
        .post(gw.url("/api/v1/auth/login"))
        .json(&json!({"school": slug, "email": format!("admin@{slug}.test"), "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK, "login limits work again");
    // The realtime subscriber has a connection (and a reconnect backoff) of
    // its own, so it may come back a little after the cache's client.
    eventually("readiness to recover", Duration::from_secs(15), || async {
        let ready: Value = gw
            .http
            .get(gw.url("/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ready["status"] == "ready"
    })
    .await;
}

/// A cluster primary dies: reads keep answering, and once a replica took
/// over, cache and limits work again.
#[tokio::test]
async fn a_cluster_primary_failover_recovers() {
    let mut cluster = tokio::task::spawn_blocking(PrivateRedisCluster::start)
        .await
        .unwrap()
        .unwrap();
    let gw = spawn_configured(|c| {
        c.redis_url = cluster.url();
        c.rate_limit_read = "100000/60s".parse().unwrap();
    })
    .await;
    let slug = unique("failover");
    let admin = gw.admin(&slug).await;
    let school = s_school(&gw, &admin).await;
    let s = gw.create_student(&admin, "F-1", "Fay").await;
    let path = format!("/api/v1/students/{}", s["id"].as_str().unwrap());
    gw.get(&path, &admin).await;
    assert_eq!(x_cache(&gw.get(&path, &admin).await), "HIT");

    let tag = format!("{{school:{school}}}");
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.kill_primary_of(&tag).unwrap();
        cluster
    })
    .await
    .unwrap();
    eventually(
        "failover, then cache hits again",
        Duration::from_secs(30),
        || async {
            let r = gw.get(&path, &admin).await;
            assert_eq!(r.status(), StatusCode::OK, "reads answer during failover");
            x_cache(&r) == "HIT"
        },
    )
    .await;
    // Limits too: a write (its own script) and a login (fails closed).
    let r = gw
        .patch(
            &path,
            &admin,
            json!({"version": s["version"], "given_name": "Faye"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("ratelimit"));
    let got: Value = gw.get(&path, &admin).await.json().await.unwrap();
    assert_eq!(got["given_name"], "Faye");
    gw.login(&slug, &format!("admin@{slug}.test")).await;
    drop(cluster);
}

#[tokio::test]
async fn the_cache_can_be_bypassed_by_config() {
    let gw = spawn_configured(|c| c.cache_enabled = false).await;
    let admin = gw.admin(&unique("bypass")).await;
    for _ in 0..2 {
        let r = gw.get("/api/v1/students", &admin).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(x_cache(&r), "BYPASS");
        assert!(r.headers().contains_key("ratelimit"));
    }
    assert_eq!(gw.stats.hits(), 0);
    assert_eq!(gw.stats.bypasses.load(Relaxed), 2);
    let metrics = gw
        .http
        .get(format!("{}/metrics", gw.admin))
        .send()
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("gateway_cache_requests_total{result=\"bypass\",tier=\"none\"} 2"),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_count_hits_and_misses_off_the_public_port() {
    let gw = spawn().await;
    let admin = gw.admin(&unique("metrics")).await;
    for _ in 0..3 {
        gw.get("/api/v1/students", &admin).await;
    }
    let text = gw
        .http
        .get(format!("{}/metrics", gw.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |series: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} missing in {text}"))
    };
    assert_eq!(
        value("gateway_cache_requests_total{result=\"miss\",tier=\"none\"}"),
        1
    );
    assert_eq!(
        value("gateway_cache_requests_total{result=\"hit\",tier=\"local\"}")
            + value("gateway_cache_requests_total{result=\"hit\",tier=\"redis\"}"),
        2
    );
    assert_eq!(value("gateway_cache_origin_loads_total"), 1);
    // Per-route and limiter series too (process-wide recorder: other tests
    // only add to them).
    assert!(
        value(
            "http_server_requests_total{method=\"GET\",route=\"/api/v1/students\",class=\"read\",status=\"200\"}"
        ) >= 3
    );
    assert!(value("gateway_ratelimit_decisions_total{class=\"read\",decision=\"allowed\"}") >= 3);
    assert!(text.contains("http_server_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/students\",class=\"read\",le=\"0.005\"}"), "{text}");
    // Not on the public listener.
    let r = gw.http.get(gw.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
