//! Rolling restart: two students-svc replicas behind the gateway's
//! client-side balancing; each is restarted in turn under load, and not one
//! request fails.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
        Arc,
    },
    time::{Duration, Instant},
};

use platform::testing::{fresh_database, redis::redis_url};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::{sync::oneshot, task::JoinHandle};

use crate::helpers::*;

struct Replica {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    done: JoinHandle<anyhow::Result<()>>,
}

async fn start_replica(config: &students_svc::config::Config) -> Replica {
    // The port of a replica that just stopped may take a moment to free.
    let deadline = Instant::now() + Duration::from_secs(10);
    let app = loop {
        match students_svc::startup::Application::build(config).await {
            Ok(app) => break app,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("replica did not start: {e:#}"),
        }
    };
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    Replica { addr, stop, done }
}

impl Replica {
    /// SIGTERM-like: NOT_SERVING, keep serving for the drain delay, stop
    /// accepting, finish in-flight calls.
    async fn stop(self) -> SocketAddr {
        let _ = self.stop.send(());
        self.done.await.unwrap().unwrap();
        self.addr
    }
}

#[tokio::test]
async fn replicas_restarted_one_by_one_under_load_fail_no_request() {
    let db = fresh_database().await.unwrap();
    let mut config = students_svc::config::Config::for_database(&db.students_url);
    config.drain_delay_ms = 500;
    let a = start_replica(&config).await;
    let b = start_replica(&config).await;

    let mut gw_config = gateway::config::Config::for_tests(
        format!("http://{},http://{}", a.addr, b.addr),
        redis_url(),
    );
    // Every read reaches a replica.
    gw_config.cache_enabled = false;
    let gw = spawn_instance(gw_config.clone());
    wait_ready(&gw.base).await;
    let http = reqwest::Client::new();

    let slug = crate::cache::unique("rollout");
    let token = school_admin(&http, &gw.base, &operator_token(&gw_config), &slug).await;
    let s: Value = http
        .post(format!("{}/api/v1/students", gw.base))
        .bearer_auth(&token)
        .json(&new_student("R-1", "Rae"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = format!("{}/api/v1/students/{}", gw.base, s["id"].as_str().unwrap());

    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let load: Vec<_> = (0..8)
        .map(|_| {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
            tokio::spawn(async move {
                while !stop.load(Relaxed) {
                    match http.get(&url).bearer_auth(&token).send().await {
                        Ok(r) if r.status() == StatusCode::OK => {
                            ok.fetch_add(1, Relaxed);
                        }
                        Ok(r) => {
                            let status = r.status();
                            let body = r.text().await.unwrap_or_default();
                            failed.lock().unwrap().push(format!("{status} {body}"));
                        }
                        Err(e) => failed.lock().unwrap().push(e.to_string()),
                    }
                }
            })
        })
        .collect();
    let served_at_least = |n: u64| {
        let ok = ok.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            while ok.load(Relaxed) < n {
                assert!(
                    Instant::now() < deadline,
                    "load stalled at {}",
                    ok.load(Relaxed)
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    served_at_least(100).await;

    // Restart a, then b, each while the other carries the load.
    let mut config_a = config.clone();
    config_a.listen = a.stop().await;
    let a2 = start_replica(&config_a).await;
    served_at_least(ok.load(Relaxed) + 200).await;
    let mut config_b = config.clone();
    config_b.listen = b.stop().await;
    let b2 = start_replica(&config_b).await;
    served_at_least(ok.load(Relaxed) + 200).await;

    stop.store(true, Relaxed);
    for t in load {
        t.await.unwrap();
    }
    let failed = failed.lock().unwrap().clone();
    assert!(
        failed.is_empty(),
        "{} failed requests, e.g. {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(ok.load(Relaxed) >= 500);
    drop((a2, b2));
}
