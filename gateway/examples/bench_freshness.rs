//! Dashboard freshness under load (bench/run.sh, alongside the records
//! scenario), through the gateway's HTTP API with its cache on:
//!
//! 1. Mark-to-dashboard: a teacher of its own course in school 1 (`bench-01`,
//!    which the records teachers also mark) marks one enrolled student for
//!    today, flipping present / absent every `--interval-ms`, and polls the
//!    admin dashboard (`GET /dashboards/school`, today's absences) and the
//!    student summary (`GET /students/{id}/summary`, this year's absences)
//!    every `--poll-ms` until each shows the mark. The time from sending the
//!    mark to the first read that shows it is the figure (so it includes the
//!    write, the outbox relay, the consumer and the cache invalidation).
//!    A view not showing it after `--max-wait-ms` counts as a miss.
//! 2. Consumer lag: every second, analytics-svc's `/metrics`:
//!    `event_consumer_lag_seconds{group="analytics"}` (the histogram of the
//!    time from an event's creation to its application), its pending entries
//!    and the events applied; report.py diffs consecutive samples.
//!
//! Runs until `--stop-file` exists (or `--seconds`); one JSON line per probe
//! and per sample (`kind` = `probe` | `lag`, `at_ms` = Unix time) appended to
//! `--out`, so report.py can split them by the records run's phases. Needs
//! the seeder's tokens.txt and student_ids.txt in `--work`.

use std::{
    path::PathBuf,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use reqwest::Client;
use serde_json::{json, Value};
use tokio::sync::mpsc;

#[derive(Parser, Debug)]
#[command(about = "Mark-to-dashboard latency and consumer lag while a load runs")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8280")]
    base: String,
    /// analytics-svc's admin listener (`/metrics`).
    #[arg(long, default_value = "http://127.0.0.1:9282")]
    analytics_admin: String,
    #[arg(long, default_value = "bench/.work")]
    work: PathBuf,
    /// The slug of the first school of tokens.txt.
    #[arg(long, default_value = "bench-01")]
    school: String,
    /// One mark every this many milliseconds (after the previous one showed).
    #[arg(long, default_value_t = 500)]
    interval_ms: u64,
    #[arg(long, default_value_t = 5)]
    poll_ms: u64,
    #[arg(long, default_value_t = 10_000)]
    max_wait_ms: u64,
    /// How long analytics-svc may take to catch up with the seed before the
    /// probe starts (its student's summary answers).
    #[arg(long, default_value_t = 600)]
    catch_up_secs: u64,
    /// Stop when this file exists.
    #[arg(long)]
    stop_file: Option<PathBuf>,
    /// Stop after this long at the latest.
    #[arg(long, default_value_t = 3600)]
    seconds: u64,
    #[arg(long)]
    out: PathBuf,
}

const PASSWORD: &str = "bench-teacher-password-1";

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

async fn ok(r: reqwest::Response, what: &str) -> Result<Value> {
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    ensure!(status.is_success(), "{what}: {status} {body}");
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

struct Probe {
    http: Client,
    base: String,
    admin: String,
    teacher: String,
    course: String,
    student: String,
}

impl Probe {
    async fn get(&self, path: &str) -> Result<Value> {
        ok(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.admin)
                .send()
                .await?,
            path,
        )
        .await
    }

    async fn dashboard(&self) -> Result<Value> {
        self.get("/api/v1/dashboards/school").await
    }

    async fn summary(&self) -> Result<Value> {
        self.get(&format!("/api/v1/students/{}/summary", self.student))
            .await
    }

    async fn mark(&self, date: &str, status: &str) -> Result<()> {
        ok(
            self.http
                .put(format!(
                    "{}/api/v1/courses/{}/attendance/{date}?period=1",
                    self.base, self.course
                ))
                .bearer_auth(&self.teacher)
                .json(&json!({"entries": [{"student_id": self.student, "status": status}]}))
                .send()
                .await?,
            "mark",
        )
        .await
        .map(drop)
    }
}

/// A teacher, a course and one enrolled student in school 1.
async fn setup(http: &Client, a: &Args) -> Result<Probe> {
    let tokens = std::fs::read_to_string(a.work.join("tokens.txt"))
        .context("tokens.txt (run the seeder first)")?;
    let admin = tokens.lines().next().context("no admin token")?.to_owned();
    // The school's last seeded student: the records classes take the first ones.
    let student = std::fs::read_to_string(a.work.join("student_ids.txt"))?
        .lines()
        .filter_map(|l| l.split_once(' '))
        .rfind(|(s, _)| *s == "1")
        .context("no student of school 1")?
        .1
        .to_owned();
    let base = &a.base;
    let run = chrono::Utc::now().format("%H%M%S").to_string();
    let email = format!("fresh-{run}@{}.bench.test", a.school);
    let user = ok(
        http.post(format!("{base}/api/v1/users"))
            .bearer_auth(&admin)
            .json(&json!({"email": email, "password": PASSWORD,
                "full_name": "Freshness Probe", "role": "teacher"}))
            .send()
            .await?,
        "create teacher",
    )
    .await?;
    let login = ok(
        http.post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"school": a.school, "email": email, "password": PASSWORD}))
            .send()
            .await?,
        "teacher login",
    )
    .await?;
    let course = ok(
        http.post(format!("{base}/api/v1/courses"))
            .bearer_auth(&admin)
            .json(
                &json!({"code": format!("F{run}"), "name": "Freshness probe",
                "term": "2026-T1", "teacher_id": user["id"], "capacity": 5}),
            )
            .send()
            .await?,
        "create course",
    )
    .await?;
    let course = course["id"].as_str().context("course id")?.to_owned();
    ok(
        http.post(format!("{base}/api/v1/courses/{course}/enrolments"))
            .bearer_auth(&admin)
            .json(&json!({"student_id": student}))
            .send()
            .await?,
        "enrol",
    )
    .await?;
    Ok(Probe {
        http: http.clone(),
        base: base.clone(),
        admin,
        teacher: login["access_token"]
            .as_str()
            .context("access token")?
            .to_owned(),
        course,
        student,
    })
}

fn count(v: &Value, path: &[&str]) -> i64 {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_i64()
        .unwrap_or(i64::MIN)
}

/// Absences today (dashboard) and this school year (summary).
async fn absences(p: &Probe) -> Result<(i64, i64)> {
    Ok((
        count(&p.dashboard().await?, &["today_attendance", "absent"]),
        count(&p.summary().await?, &["year_attendance", "absent"]),
    ))
}

/// Polls until both views show `want` absences; the time each first did
/// (from `sent`), or None if it did not within `max`.
async fn until_shown(
    p: &Probe,
    want: (i64, i64),
    sent: Instant,
    a: &Args,
) -> (Option<f64>, Option<f64>) {
    let (mut dash, mut summ) = (None, None);
    let max = Duration::from_millis(a.max_wait_ms);
    while (dash.is_none() || summ.is_none()) && sent.elapsed() < max {
        if dash.is_none() {
            if let Ok(v) = p.dashboard().await {
                if count(&v, &["today_attendance", "absent"]) == want.0 {
                    dash = Some(sent.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }
        if summ.is_none() {
            if let Ok(v) = p.summary().await {
                if count(&v, &["year_attendance", "absent"]) == want.1 {
                    summ = Some(sent.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(a.poll_ms)).await;
    }
    (dash, summ)
}

/// Sum of the samples (over every label set) of a metric with the group
/// label `analytics`, and the cumulative buckets of its histogram.
fn scrape(text: &str) -> Value {
    let group = "group=\"analytics\"";
    let value = |l: &str| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
    let (mut pending, mut count, mut sum, mut applied) = (0.0, 0.0, 0.0, 0.0);
    let mut buckets: Vec<(f64, f64)> = Vec::new();
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let v = value(l).unwrap_or(0.0);
        if l.starts_with("event_consumer_pending{") && l.contains(group) {
            pending += v;
        } else if l.starts_with("event_consumer_lag_seconds_count{") && l.contains(group) {
            count += v;
        } else if l.starts_with("event_consumer_lag_seconds_sum{") && l.contains(group) {
            sum += v;
        } else if l.starts_with("event_consumer_lag_seconds_bucket{") && l.contains(group) {
            let le = l
                .split("le=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .map(|s| {
                    if s == "+Inf" {
                        f64::INFINITY
                    } else {
                        s.parse().unwrap_or(f64::NAN)
                    }
                })
                .unwrap_or(f64::NAN);
            buckets.push((le, v));
        } else if l.starts_with("events_consumed_total{") && l.contains("outcome=\"applied\"") {
            applied += v;
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let buckets: Vec<Value> = buckets
        .into_iter()
        .map(|(le, n)| {
            json!([
                if le.is_finite() {
                    json!(le)
                } else {
                    json!("+Inf")
                },
                n
            ])
        })
        .collect();
    json!({"pending": pending, "lag_count": count, "lag_sum_s": sum, "applied": applied,
        "lag_buckets": buckets})
}

async fn sampler(http: Client, url: String, out: mpsc::Sender<Value>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let at_ms = unix_ms();
        let text = match http.get(&url).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => continue,
        };
        let mut v = scrape(&text);
        v["kind"] = json!("lag");
        v["at_ms"] = json!(at_ms);
        if out.send(v).await.is_err() {
            return;
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    let http = Client::builder().timeout(Duration::from_secs(10)).build()?;
    let p = setup(&http, &a).await?;
    let today = p.dashboard().await?["today"]
        .as_str()
        .context("dashboard without today")?
        .to_owned();

    let (tx, mut rx) = mpsc::channel::<Value>(1024);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&a.out)?;
    // A line a second or so: small enough to write in place.
    let writer = tokio::spawn(async move {
        use std::io::Write;
        while let Some(v) = rx.recv().await {
            let _ = writeln!(file, "{v}");
        }
    });
    let sampling = tokio::spawn(sampler(
        http.clone(),
        format!("{}/metrics", a.analytics_admin),
        tx.clone(),
    ));

    // The seeder has just written tens of thousands of students: the probe
    // starts once analytics-svc has applied them up to this student (the
    // last of its school), or the first figures would time the backlog.
    let waited = Instant::now();
    let before = loop {
        match absences(&p).await {
            Ok(b) => break b,
            Err(_) if waited.elapsed() < Duration::from_secs(a.catch_up_secs) => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e.context("analytics-svc did not catch up with the seed")),
        }
    };
    eprintln!(
        "freshness: analytics-svc caught up with the seed after {:.1} s",
        waited.elapsed().as_secs_f64()
    );
    // Baseline: the student marked present, shown in both views.
    p.mark(&today, "present").await?;
    let t = Instant::now();
    let _ = until_shown(&p, before, t, &a).await;
    let base = absences(&p).await?;
    eprintln!("freshness: probing (today {today}, baseline absences {base:?})");

    let stop = Instant::now() + Duration::from_secs(a.seconds);
    let mut absent = false;
    let (mut probes, mut misses) = (0u64, 0u64);
    while Instant::now() < stop && !a.stop_file.as_ref().is_some_and(|f| f.exists()) {
        let next = Instant::now() + Duration::from_millis(a.interval_ms);
        absent = !absent;
        let want = (base.0 + i64::from(absent), base.1 + i64::from(absent));
        let at_ms = unix_ms();
        let sent = Instant::now();
        let marked = p
            .mark(&today, if absent { "absent" } else { "present" })
            .await;
        let put_ms = sent.elapsed().as_secs_f64() * 1000.0;
        if let Err(e) = marked {
            eprintln!("freshness: mark failed: {e:#}");
            absent = !absent;
            tokio::time::sleep_until(next.into()).await;
            continue;
        }
        let (dash, summ) = until_shown(&p, want, sent, &a).await;
        probes += 1;
        if dash.is_none() || summ.is_none() {
            misses += 1;
        }
        let _ = tx
            .send(json!({"kind": "probe", "at_ms": at_ms, "put_ms": put_ms,
                "dashboard_ms": dash, "summary_ms": summ}))
            .await;
        tokio::time::sleep_until(next.into()).await;
    }
    sampling.abort();
    drop(tx);
    let _ = writer.await;
    eprintln!(
        "freshness: {probes} probes, {misses} not shown within {} ms",
        a.max_wait_ms
    );
    Ok(())
}
