use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use gateway::{cache::Stats, config::Config, startup::Application};
use platform::testing::{eventually, fresh_database, redis::redis_url, TestDatabase};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret!";

pub struct TestGateway {
    pub base: String,
    pub admin: String,
    /// The cache counters of the instance at `base`.
    pub stats: Arc<Stats>,
    pub http: reqwest::Client,
    pub db: TestDatabase,
    pub config: Config,
    _stop_students: oneshot::Sender<()>,
    _gateway: Instance,
}

pub fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        platform::telemetry::init(platform::telemetry::LogFormat::Pretty);
    }
}

/// Starts students-svc in-process (port 0) on a fresh database, publishing
/// session revocations to the gateways' Redis.
pub async fn spawn_students(db: &TestDatabase) -> (String, oneshot::Sender<()>) {
    let mut config = students_svc::config::Config::for_database(&db.students_url);
    config.redis_url = redis_url();
    spawn_students_with(&config).await
}

/// Starts students-svc in-process with `config` (its relay on, say).
pub async fn spawn_students_with(
    config: &students_svc::config::Config,
) -> (String, oneshot::Sender<()>) {
    let app = students_svc::startup::Application::build(config)
        .await
        .expect("build students-svc");
    let url = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    (url, stop)
}

/// One gateway instance: its base URL and cache counters; stops on drop.
pub struct Instance {
    pub base: String,
    /// The admin listener (`/metrics`).
    pub admin: String,
    pub stats: Arc<Stats>,
    _stop: oneshot::Sender<()>,
}

/// Starts the gateway on its own thread with its own actix system, as its
/// binary does, and returns once it listens.
pub fn spawn_instance(config: Config) -> Instance {
    let (stop, stopped) = oneshot::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(config).expect("build gateway");
            ready_tx
                .send((app.local_addr(), app.admin_addr(), app.cache_stats()))
                .expect("report address");
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .expect("gateway run");
        });
    });
    let (addr, admin, stats) = ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("gateway started");
    Instance {
        base: format!("http://{addr}"),
        admin: format!("http://{admin}"),
        stats,
        _stop: stop,
    }
}

/// Waits until the instance reaches students-svc and Redis (it connects to
/// Redis in the background; a cluster takes a moment).
pub async fn wait_ready(base: &str) {
    eventually(
        &format!("{base} to be ready"),
        Duration::from_secs(15),
        || async {
            let Ok(r) = reqwest::get(format!("{base}/readyz")).await else {
                return false;
            };
            let body: Value = r.json().await.unwrap_or_default();
            body["status"] == "ready"
        },
    )
    .await;
}

pub fn spawn_gateway_with(config: Config) -> (String, Instance) {
    let i = spawn_instance(config);
    (i.base.clone(), i)
}

pub async fn spawn() -> TestGateway {
    spawn_configured(|_| {}).await
}

pub async fn spawn_configured(tweak: impl FnOnce(&mut Config)) -> TestGateway {
    init_logs();
    let db = fresh_database().await.expect("fresh database");
    let (students_url, stop_students) = spawn_students(&db).await;
    let mut config = Config::for_tests(students_url, redis_url());
    tweak(&mut config);
    gateway_for(db, config, stop_students).await
}

/// A gateway with `config` in front of an already running students-svc
/// (stopped with the gateway) on `db`; returns once it is ready.
pub async fn gateway_for(
    db: TestDatabase,
    config: Config,
    stop_students: oneshot::Sender<()>,
) -> TestGateway {
    let gateway = spawn_instance(config.clone());
    wait_ready(&gateway.base).await;
    TestGateway {
        base: gateway.base.clone(),
        admin: gateway.admin.clone(),
        stats: gateway.stats.clone(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        db,
        config,
        _stop_students: stop_students,
        _gateway: gateway,
    }
}

/// Creates school `slug` through the gateway at `base` (operator token) and
/// returns its admin's access token.
pub async fn school_admin(
    http: &reqwest::Client,
    base: &str,
    operator: &str,
    slug: &str,
) -> String {
    let r = http
        .post(format!("{base}/api/v1/schools"))
        .bearer_auth(operator)
        .json(&json!({"name": format!("School {slug}"), "slug": slug,
            "admin": {"email": format!("admin@{slug}.test"), "password": PASSWORD, "full_name": "Ada Admin"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"school": slug, "email": format!("admin@{slug}.test"), "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["access_token"].as_str().unwrap().to_owned()
}

pub fn operator_token(c: &Config) -> String {
    use secrecy::ExposeSecret;
    c.operator_token.expose_secret().to_owned()
}

impl TestGateway {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn create_school(&self, slug: &str) -> Value {
        let r = self
            .http
            .post(self.url("/api/v1/schools"))
            .bearer_auth(operator_token(&self.config))
            .json(&json!({
                "name": format!("School {slug}"),
                "slug": slug,
                "admin": {"email": format!("admin@{slug}.test"), "password": PASSWORD, "full_name": "Ada Admin"}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().await.unwrap()
    }

    pub async fn login(&self, slug: &str, email: &str) -> String {
        let r = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"school": slug, "email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {email}");
        let body: Value = r.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A school with its admin's token.
    pub async fn admin(&self, slug: &str) -> String {
        self.create_school(slug).await;
        self.login(slug, &format!("admin@{slug}.test")).await
    }

    pub async fn teacher(&self, slug: &str, admin_token: &str) -> String {
        let email = format!("teacher@{slug}.test");
        let r = self
            .post(
                "/api/v1/users",
                admin_token,
                json!({"email": email, "password": PASSWORD, "full_name": "Tess Teacher", "role": "teacher"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        self.login(slug, &email).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.http
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Response {
        self.http
            .put(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn create_student(&self, token: &str, admission_no: &str, given: &str) -> Value {
        let r = self
            .post("/api/v1/students", token, new_student(admission_no, given))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().await.unwrap()
    }

    /// A published assessment of `course` (due today) with these scores
    /// out of 50.
    pub async fn published_assessment(&self, teacher: &str, course: &str, scores: &[(&str, f64)]) {
        let r = self
            .post(
                &format!("/api/v1/courses/{course}/assessments"),
                teacher,
                json!({"title": "Quiz 1", "max_score": 50, "weight": 1,
                       "due_date": chrono::Utc::now().date_naive().to_string()}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let a: Value = r.json().await.unwrap();
        let id = a["id"].as_str().unwrap();
        let entries: Vec<Value> = scores
            .iter()
            .map(|(s, score)| json!({"student_id": s, "score": score}))
            .collect();
        let r = self
            .put(
                &format!("/api/v1/assessments/{id}/grades"),
                teacher,
                json!({ "entries": entries }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = self
            .post(
                &format!("/api/v1/assessments/{id}/publish"),
                teacher,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    /// Rows in a students-svc table, read as the database admin.
    pub async fn count(&self, table: &str) -> i64 {
        self.db.count(&format!("students.{table}")).await
    }
}

pub fn new_student(admission_no: &str, given: &str) -> Value {
    json!({
        "admission_no": admission_no,
        "given_name": given,
        "family_name": "Ng",
        "date_of_birth": "2014-05-17",
        "grade_level": 5,
        "section": "A"
    })
}

/// Asserts a problem+json answer with `status` and `code`; returns the body.
pub async fn problem(r: Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "status");
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let header_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], header_id.as_str());
    body
}

pub fn error_fields(body: &Value) -> Vec<String> {
    let mut f: Vec<String> = body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default();
    f.sort();
    f
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
