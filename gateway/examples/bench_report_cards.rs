//! Report cards against a running system (the "Done when" figures of issue
//! 17): p50 render time per card, and a whole grade of `--students` cards
//! end to end.
//!
//! ```text
//! cargo run --release -p gateway --example bench_report_cards -- \
//!     --base http://127.0.0.1:8280 --operator-token "$OPERATOR_TOKEN"
//! ```
//!
//! It creates a school of its own (`rc-<random>`), a teacher, one course of
//! `--term`, `--students` students of `--grade-level` enrolled in it, and a
//! published assessment graded for each; waits until notify-svc and
//! analytics-svc have applied those events (one warm-up card of the last
//! student rendered and showing its grade); then asks for the grade's cards
//! in one `POST /api/v1/report-cards` and polls the batch until done. It
//! prints one JSON line: the request's latency, the end-to-end time (request
//! sent to the last card rendered, as polled every `--poll-ms`), and the
//! cards' `render_ms` percentiles (time spent rendering one PDF under the
//! render semaphore).

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use futures::{stream, StreamExt, TryStreamExt};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(about = "Report cards: render time per card and a grade end to end")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8280")]
    base: String,
    #[arg(long, env = "OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: String,
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u16).range(1..=500))]
    students: u16,
    #[arg(long, default_value_t = 7)]
    grade_level: i32,
    #[arg(long, default_value = "2026-T1")]
    term: String,
    /// Concurrent requests while seeding.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 50)]
    poll_ms: u64,
    /// Give up waiting (for the seed to be applied, for the batch) after this.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
}

const PASSWORD: &str = "bench-report-cards-password";

struct Api {
    c: Client,
    base: String,
}

impl Api {
    /// One call; a 429 waits its `Retry-After` and tries again (the seed
    /// may outrun the write budget of a stack with default limits).
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        loop {
            let mut r = self
                .c
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(token);
            if let Some(b) = &body {
                r = r.json(b);
            }
            let r = r.send().await.with_context(|| path.to_owned())?;
            let status = r.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = r
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait.max(1))).await;
                continue;
            }
            let body = r.json::<Value>().await.unwrap_or(Value::Null);
            return Ok((status, body));
        }
    }

    async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        want: StatusCode,
    ) -> Result<Value> {
        let (status, body) = self.send(method.clone(), path, token, body).await?;
        ensure!(status == want, "{method} {path}: {status} {body}");
        Ok(body)
    }
}

fn id(v: &Value) -> Result<String> {
    Ok(v["id"].as_str().context("no id")?.to_owned())
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    let api = Api {
        c: Client::builder().timeout(Duration::from_secs(30)).build()?,
        base: a.base.trim_end_matches('/').to_owned(),
    };
    let deadline = Instant::now() + Duration::from_secs(a.timeout_secs);
    let post = reqwest::Method::POST;

    // A school of its own, so the grade holds exactly these students.
    let slug = format!("rc-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let email = format!("admin@{slug}.bench.test");
    api.expect(
        post.clone(),
        "/api/v1/schools",
        &a.operator_token,
        Some(
            json!({"name": format!("Report Card Bench {slug}"), "slug": slug,
            "admin": {"email": email, "password": PASSWORD, "full_name": "Bench Admin"}}),
        ),
        StatusCode::CREATED,
    )
    .await?;
    let login = |email: String| {
        let api = &api;
        let slug = slug.clone();
        async move {
            let r = api
                .c
                .post(format!("{}/api/v1/auth/login", api.base))
                .json(&json!({"school": slug, "email": email, "password": PASSWORD}))
                .send()
                .await?;
            ensure!(r.status() == StatusCode::OK, "login: {}", r.status());
            let v: Value = r.json().await?;
            Ok::<_, anyhow::Error>(v["access_token"].as_str().context("no token")?.to_owned())
        }
    };
    let admin = login(email).await?;
    let teacher_email = format!("teacher@{slug}.bench.test");
    let teacher = api
        .expect(
            post.clone(),
            "/api/v1/users",
            &admin,
            Some(json!({"email": teacher_email, "password": PASSWORD,
                "full_name": "Bench Teacher", "role": "teacher"})),
            StatusCode::CREATED,
        )
        .await?;
    let teacher_token = login(teacher_email).await?;
    let course = id(&api
        .expect(
            post.clone(),
            "/api/v1/courses",
            &admin,
            Some(
                json!({"code": "BENCH-1", "name": "Bench Mathematics", "term": a.term,
                "teacher_id": id(&teacher)?, "capacity": 500}),
            ),
            StatusCode::CREATED,
        )
        .await?)?;

    let seed_started = Instant::now();
    let students: Vec<String> = stream::iter(0..a.students)
        .map(|i| {
            let (api, admin, course) = (&api, &admin, &course);
            let body = json!({"admission_no": format!("RC-{i:04}"), "given_name": format!("Student{i:04}"),
                "family_name": "Bench", "date_of_birth": "2012-03-04", "grade_level": a.grade_level,
                "section": "A"});
            async move {
                let s = api
                    .expect(reqwest::Method::POST, "/api/v1/students", admin, Some(body), StatusCode::CREATED)
                    .await?;
                let sid = id(&s)?;
                api.expect(
                    reqwest::Method::POST,
                    &format!("/api/v1/courses/{course}/enrolments"),
                    admin,
                    Some(json!({"student_id": sid})),
                    StatusCode::CREATED,
                )
                .await?;
                Ok::<_, anyhow::Error>(sid)
            }
        })
        .buffered(a.concurrency)
        .try_collect()
        .await?;
    let assessment = id(&api
        .expect(
            post.clone(),
            &format!("/api/v1/courses/{course}/assessments"),
            &teacher_token,
            Some(json!({"title": "Bench quiz", "max_score": 100, "weight": 1,
                "due_date": chrono::Utc::now().date_naive().to_string()})),
            StatusCode::CREATED,
        )
        .await?)?;
    let entries: Vec<Value> = students
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"student_id": s, "score": 50 + (i % 50)}))
        .collect();
    api.expect(
        reqwest::Method::PUT,
        &format!("/api/v1/assessments/{assessment}/grades"),
        &teacher_token,
        Some(json!({ "entries": entries })),
        StatusCode::OK,
    )
    .await?;
    api.expect(
        post.clone(),
        &format!("/api/v1/assessments/{assessment}/publish"),
        &teacher_token,
        Some(json!({})),
        StatusCode::OK,
    )
    .await?;
    let seeded_in = seed_started.elapsed();

    // Warm-up: the last student's card, until it shows the published grade
    // (notify-svc knows the students, analytics-svc has the grades).
    let last = students.last().context("no students")?;
    let poll = Duration::from_millis(a.poll_ms);
    loop {
        ensure!(
            Instant::now() < deadline,
            "the seed was not applied in time"
        );
        let (status, card) = api
            .send(
                post.clone(),
                &format!("/api/v1/students/{last}/report-cards"),
                &admin,
                Some(json!({"term": a.term})),
            )
            .await?;
        if status == StatusCode::NOT_FOUND {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        ensure!(
            status == StatusCode::ACCEPTED,
            "warm-up card: {status} {card}"
        );
        let path = format!("/api/v1/report-cards/{}", id(&card)?);
        let done = loop {
            ensure!(Instant::now() < deadline, "the warm-up card did not render");
            let c = api
                .expect(reqwest::Method::GET, &path, &admin, None, StatusCode::OK)
                .await?;
            if c["status"] != "queued" {
                break c;
            }
            tokio::time::sleep(poll).await;
        };
        if done["status"] != "ready" {
            eprintln!("warm-up card not ready yet: {}", done["error"]);
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        let summary = api
            .expect(
                reqwest::Method::GET,
                &format!("/api/v1/students/{last}/summary"),
                &admin,
                None,
                StatusCode::OK,
            )
            .await?;
        let graded = summary["courses"][0]["graded"].as_u64().unwrap_or(0);
        if graded > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The figure: the whole grade in one request.
    let started = Instant::now();
    let (status, batch) = api
        .send(
            post.clone(),
            "/api/v1/report-cards",
            &admin,
            Some(json!({"term": a.term, "grade_level": a.grade_level})),
        )
        .await?;
    let request_ms = started.elapsed().as_secs_f64() * 1000.0;
    ensure!(status == StatusCode::ACCEPTED, "batch: {status} {batch}");
    let path = format!("/api/v1/report-card-batches/{}", id(&batch)?);
    let done = loop {
        ensure!(
            Instant::now() < deadline,
            "the batch did not finish in time"
        );
        let b = api
            .expect(reqwest::Method::GET, &path, &admin, None, StatusCode::OK)
            .await?;
        if b["status"] == "done" {
            break b;
        }
        tokio::time::sleep(poll).await;
    };
    let end_to_end = started.elapsed();
    let mut render: Vec<u64> = done["cards"]
        .as_array()
        .context("no cards")?
        .iter()
        .filter_map(|c| c["render_ms"].as_u64())
        .collect();
    render.sort_unstable();
    let out = json!({
        "scenario": "report_cards",
        "cards": done["total"],
        "ready": done["ready"],
        "failed": done["failed"],
        "seed_secs": seeded_in.as_secs_f64(),
        "request_ms": request_ms,
        "grade_end_to_end_secs": end_to_end.as_secs_f64(),
        "render_ms_p50": percentile(&render, 0.5),
        "render_ms_p90": percentile(&render, 0.9),
        "render_ms_max": render.last().copied().unwrap_or(0),
    });
    println!("{out}");
    ensure!(done["failed"] == 0, "some cards failed");
    Ok(())
}
