//! The four real binaries as separate processes, wired by environment
//! variables exactly as `make run` wires them.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use platform::testing::redis::redis_url;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

pub fn bin(name: &str) -> PathBuf {
    // target/debug/deps/api-<hash> → target/debug/<name>
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .to_path_buf();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build all binaries first (`cargo test --workspace --all-targets` does)",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Processes(pub Vec<(String, Child)>);

impl Processes {
    /// Starts the built binary `name` with `envs`; its output goes to `log`,
    /// or is dropped (inherited with `TEST_LOG`).
    pub fn spawn(&mut self, name: &str, envs: &[(&str, String)], log: Option<std::fs::File>) {
        let mut cmd = Command::new(bin(name));
        cmd.env("LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            // The same in every process, as a deployment's Secret gives it.
            .env("SERVICE_AUTH_KEY", platform::trust::TEST_KEY);
        match log {
            Some(f) => {
                cmd.stdout(f.try_clone().unwrap()).stderr(f);
            }
            None if std::env::var("TEST_LOG").is_ok() => {
                cmd.stdout(Stdio::null()).stderr(Stdio::inherit());
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        self.0.push((name.to_owned(), cmd.spawn().unwrap()));
    }

    /// SIGTERM everything and require a clean exit: graceful shutdown works.
    pub fn stop(mut self) {
        for (name, child) in &mut self.0 {
            let status = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success(), "signal {name}");
        }
        for (name, child) in &mut self.0 {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    assert!(status.success(), "{name} exited with {status}");
                    break;
                }
                assert!(Instant::now() < deadline, "{name} did not stop");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.0.clear();
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
        }
    }
}

#[tokio::test]
async fn four_binaries_login_create_get_list_update_archive() {
    let db = platform::testing::fresh_database().await.unwrap();
    let (students, analytics, notify, http) = (free_port(), free_port(), free_port(), free_port());
    let operator = "e2e-operator-token-0123456789abcdef";
    let mut procs = Processes(Vec::new());
    let mut spawn = |name: &str, envs: &[(&str, String)]| procs.spawn(name, envs, None);
    spawn(
        "students-svc",
        &[
            ("STUDENTS_LISTEN", format!("127.0.0.1:{students}")),
            ("STUDENTS_ADMIN_LISTEN", "127.0.0.1:0".to_owned()),
            ("STUDENTS_DRAIN_DELAY_MS", "200".to_owned()),
            ("STUDENTS_DATABASE_URL", db.students_url.clone()),
        ],
    );
    spawn(
        "analytics-svc",
        &[
            ("ANALYTICS_LISTEN", format!("127.0.0.1:{analytics}")),
            ("ANALYTICS_ADMIN_LISTEN", "127.0.0.1:0".to_owned()),
            ("ANALYTICS_DATABASE_URL", db.analytics_url.clone()),
            ("ANALYTICS_DRAIN_DELAY_MS", "200".to_owned()),
            ("REDIS_URL", redis_url()),
            // The shared test Redis carries every test's streams: this
            // process reads none of them (analytics.rs covers consumption).
            ("ANALYTICS_CONSUMER_ENABLED", "false".to_owned()),
        ],
    );
    spawn(
        "notify-svc",
        &[
            ("NOTIFY_LISTEN", format!("127.0.0.1:{notify}")),
            ("NOTIFY_ADMIN_LISTEN", "127.0.0.1:0".to_owned()),
            ("NOTIFY_DATABASE_URL", db.notify_url.clone()),
        ],
    );
    spawn(
        "gateway",
        &[
            ("GATEWAY_LISTEN", format!("127.0.0.1:{http}")),
            ("GATEWAY_ADMIN_LISTEN", "127.0.0.1:0".to_owned()),
            ("STUDENTS_URL", format!("http://127.0.0.1:{students}")),
            ("ANALYTICS_URL", format!("http://127.0.0.1:{analytics}")),
            ("REDIS_URL", redis_url()),
            ("JWT_SECRET", "e2e-secret-e2e-secret-e2e-secret-0".into()),
            ("OPERATOR_TOKEN", operator.into()),
        ],
    );

    let base = format!("http://127.0.0.1:{http}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status() == StatusCode::OK {
                break;
            }
        }
        assert!(Instant::now() < deadline, "system not ready within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Every service migrated its own schema (each on its own schedule: the
    // gateway's readiness follows students-svc only).
    let admin_db = platform::testing::connect(&db.admin_url).await.unwrap();
    for schema in ["students", "analytics", "notify"] {
        let sql = format!("SELECT count(*) FROM {schema}.schema_migrations");
        loop {
            // An error means the table does not exist yet.
            if let Ok(row) = admin_db.query_one(&sql, &[]).await {
                let n: i64 = row.get(0);
                if n > 0 {
                    let expected = match schema {
                        "students" => students_svc::startup::MIGRATIONS.len() as i64,
                        "notify" => notify_svc::MIGRATIONS.len() as i64,
                        _ => analytics_svc::MIGRATIONS.len() as i64,
                    };
                    assert_eq!(n, expected, "{schema}");
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{schema} not migrated within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    let post = |path: &str, token: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let token = school_admin(&client, &base, operator, "e2e").await;
    // The gateway reaches analytics-svc (ANALYTICS_URL): an answer, not a 503.
    let dashboard = client
        .get(format!("{base}/api/v1/dashboards/school"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), StatusCode::OK);

    let mut ids = Vec::new();
    for i in 0..30 {
        let r = post(
            "/api/v1/students",
            &token,
            new_student(&format!("E-{i:02}"), &format!("G{i:02}")),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let get = |path: String| {
        client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
    };
    let one: Value = get(format!("/api/v1/students/{}", ids[7]))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["admission_no"], "E-07");

    let p1: Value = get("/api/v1/students?limit=20".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p1["items"].as_array().unwrap().len(), 20);
    let p2: Value = get(format!(
        "/api/v1/students?limit=20&cursor={}",
        p1["next_cursor"].as_str().unwrap()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(p2["items"].as_array().unwrap().len(), 10);
    assert!(p2["next_cursor"].is_null());

    let patch = |version: i64| {
        client
            .patch(format!("{base}/api/v1/students/{}", ids[7]))
            .bearer_auth(&token)
            .json(&json!({"version": version, "section": "C"}))
            .send()
    };
    assert_eq!(patch(1).await.unwrap().status(), StatusCode::OK);
    let stale = patch(1).await.unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert_eq!(
        stale.json::<Value>().await.unwrap()["code"],
        "version_conflict"
    );

    let archived = client
        .delete(format!("{base}/api/v1/students/{}", ids[7]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(archived.status(), StatusCode::OK);
    let after: Value = get("/api/v1/students?limit=100".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["items"].as_array().unwrap().len(), 29);

    procs.stop();
}
