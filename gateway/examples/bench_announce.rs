//! Benchmark (issue 17): an announcement to a whole school of N guardians,
//! each opted into e-mail. Seeds a fresh school over the API (students,
//! guardians with an e-mail address, links), waits until notify-svc has
//! projected every link, then times
//!
//! - the `POST /api/v1/announcements` answer (202), and
//! - until every guardian's e-mail is at the local SMTP sink (`.eml` files
//!   in `--mail-dir`, the sink `deploy/local/run.sh` starts), and until the
//!   announcement's progress shows every e-mail sent.
//!
//! A benchmark, not a test: it reports, never asserts a target.
//!
//! ```text
//! OPERATOR_TOKEN=... cargo run --release -p gateway --example bench_announce -- \
//!   --base http://127.0.0.1:8280 --recipients 10000 --mail-dir .stack/bench/mail \
//!   --notify-db "$NOTIFY_DATABASE_URL" --out bench/.work/notify.jsonl
//! ```

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use futures::{stream, StreamExt, TryStreamExt};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(about = "Time an announcement to N guardians, to the SMTP sink")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8280")]
    base: String,
    #[arg(long, env = "OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: String,
    /// Guardians in the school (each gets one e-mail).
    #[arg(long, default_value_t = 10_000)]
    recipients: usize,
    /// Guardians per student (students = recipients / this).
    #[arg(long, default_value_t = 2)]
    guardians_per_student: usize,
    /// Requests in flight while seeding.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// The SMTP sink's folder (one `.eml` per mail); without it only the
    /// announcement's progress is timed.
    #[arg(long)]
    mail_dir: Option<PathBuf>,
    /// notify-svc's database: with it, the announcement waits until every
    /// link is projected (else the audience may be short).
    #[arg(long, env = "BENCH_NOTIFY_DB", hide_env_values = true)]
    notify_db: Option<String>,
    /// Services' `/metrics` URLs: after the projection, wait until the
    /// events they consumed are unchanged for 3 s (analytics-svc applying
    /// the seed's 25,000 events would otherwise share the CPU with the
    /// announcement).
    #[arg(long, value_delimiter = ',')]
    settle_metrics: Vec<String>,
    /// Give up waiting for the mails after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
    /// Appends one JSON line with the figures.
    #[arg(long)]
    out: Option<PathBuf>,
}

const PASSWORD: &str = "bench-announce-password-1";

async fn check(resp: reqwest::Response, what: &str) -> Result<Value> {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    ensure!(status.is_success(), "{what}: HTTP {status}: {text}");
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Retries a request a few times on connection errors and 5xx (a seed of
/// thousands should not die of one hiccup).
async fn send(what: &str, make: impl Fn() -> reqwest::RequestBuilder) -> Result<Value> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match make().send().await {
            Ok(r) if r.status().is_server_error() && attempt < 5 => {}
            Ok(r) => return check(r, what).await,
            Err(e) if attempt < 5 => eprintln!("{what}: {e}; retrying"),
            Err(e) => return Err(e.into()),
        }
        tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
    }
}

fn mail_files(dir: &Option<PathBuf>) -> usize {
    dir.as_ref()
        .and_then(|d| std::fs::read_dir(d).ok())
        .map(|it| {
            it.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    ensure!(a.recipients >= 1, "--recipients must be at least 1");
    ensure!(
        a.guardians_per_student >= 1,
        "--guardians-per-student must be at least 1"
    );
    let c = Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let base = a.base.trim_end_matches('/').to_owned();

    // A fresh school each run: its own quota, its own audience.
    let suffix = &uuid::Uuid::now_v7().simple().to_string()[20..];
    let slug = format!("announce-{suffix}");
    let admin_email = format!("admin@{slug}.bench.test");
    send("create school", || {
        c.post(format!("{base}/api/v1/schools"))
            .bearer_auth(&a.operator_token)
            .json(&json!({"name": format!("Announce {suffix}"), "slug": slug,
                "admin": {"email": admin_email, "password": PASSWORD, "full_name": "Bench Admin"}}))
    })
    .await?;
    let login = send("login", || {
        c.post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"school": slug, "email": admin_email, "password": PASSWORD}))
    })
    .await?;
    let token = login["access_token"]
        .as_str()
        .context("no access_token")?
        .to_owned();
    let school_id = login["user"]["school_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let seed_started = Instant::now();
    let students = a.recipients.div_ceil(a.guardians_per_student);
    let student_ids: Vec<String> = stream::iter(0..students)
        .map(|i| {
            let (c, base, token) = (&c, &base, &token);
            async move {
                let s = send("create student", || {
                    c.post(format!("{base}/api/v1/students"))
                        .bearer_auth(token)
                        .json(
                            &json!({"admission_no": format!("AN-{i:06}"), "given_name": "Kid",
                            "family_name": format!("N{i}"), "date_of_birth": "2014-05-17",
                            "grade_level": 5}),
                        )
                })
                .await?;
                s["id"].as_str().map(str::to_owned).context("student id")
            }
        })
        .buffered(a.concurrency)
        .try_collect()
        .await?;
    stream::iter(0..a.recipients)
        .map(|i| {
            let (c, base, token, slug) = (&c, &base, &token, &slug);
            let student = &student_ids[i / a.guardians_per_student];
            async move {
                let g = send("create guardian", || {
                    c.post(format!("{base}/api/v1/guardians"))
                        .bearer_auth(token)
                        .json(&json!({"given_name": "Pat", "family_name": format!("G{i}"),
                            "relationship": "guardian",
                            "email": format!("guardian{i}@{slug}.bench.test"),
                            "notifications": {"email": true}}))
                })
                .await?;
                let id = g["id"].as_str().context("guardian id")?.to_owned();
                send("link guardian", || {
                    c.put(format!("{base}/api/v1/guardians/{id}/students/{student}"))
                        .bearer_auth(token)
                        .json(&json!({}))
                })
                .await?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(a.concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    let seed_secs = seed_started.elapsed().as_secs_f64();
    eprintln!(
        "bench_announce: {slug}: {students} students, {} guardians seeded in {seed_secs:.1} s",
        a.recipients
    );

    if let Some(url) = &a.notify_db {
        let (db, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        let school: uuid::Uuid = school_id.parse().context("school id")?;
        let deadline = Instant::now() + Duration::from_secs(a.timeout_secs);
        loop {
            let n: i64 = db
                .query_one(
                    "SELECT count(*) FROM notify.guardian_students gs \
                     JOIN notify.guardians g USING (school_id, guardian_id) \
                     WHERE gs.school_id = $1 AND gs.linked AND g.notify_email",
                    &[&school],
                )
                .await?
                .get(0);
            if n as usize >= a.recipients {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "notify-svc projected {n} of {} links",
                a.recipients
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    eprintln!(
        "bench_announce: projected after {:.1} s",
        seed_started.elapsed().as_secs_f64()
    );
    if !a.settle_metrics.is_empty() {
        let deadline = Instant::now() + Duration::from_secs(a.timeout_secs);
        let (mut last, mut same) = (f64::NAN, 0);
        while same < 3 {
            ensure!(Instant::now() < deadline, "the consumers did not settle");
            let mut consumed = 0.0;
            for url in &a.settle_metrics {
                let text = c.get(url).send().await?.text().await?;
                consumed += text
                    .lines()
                    .filter(|l| l.starts_with("events_consumed_total{"))
                    .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                    .sum::<f64>();
            }
            same = if consumed == last { same + 1 } else { 0 };
            last = consumed;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        eprintln!(
            "bench_announce: consumers settled after {:.1} s",
            seed_started.elapsed().as_secs_f64()
        );
    }

    let mails_before = mail_files(&a.mail_dir);
    let t0 = Instant::now();
    let r = c
        .post(format!("{base}/api/v1/announcements"))
        .bearer_auth(&token)
        .json(&json!({"title": "Bench announcement",
            "body": "The school is closed on Friday for staff training.",
            "audience": {"kind": "school"}}))
        .send()
        .await?;
    let answer_ms = t0.elapsed().as_secs_f64() * 1000.0;
    ensure!(
        r.status() == StatusCode::ACCEPTED,
        "announce: HTTP {}",
        r.status()
    );
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("no Location")?
        .to_owned();
    let location = if location.starts_with("http") {
        location
    } else {
        format!("{base}{location}")
    };

    let deadline = t0 + Duration::from_secs(a.timeout_secs);
    let (mut at_sink_s, mut sent_s, mut recipients, mut failed) = (None, None, 0i64, 0i64);
    while Instant::now() < deadline && (at_sink_s.is_none() || sent_s.is_none()) {
        if at_sink_s.is_none()
            && a.mail_dir.is_some()
            && mail_files(&a.mail_dir) >= mails_before + a.recipients
        {
            at_sink_s = Some(t0.elapsed().as_secs_f64());
        }
        if sent_s.is_none() {
            let p = check(
                c.get(&location).bearer_auth(&token).send().await?,
                "progress",
            )
            .await?;
            recipients = p["recipients"].as_i64().unwrap_or(0);
            let email = p["channels"]
                .as_array()
                .and_then(|cs| cs.iter().find(|ch| ch["channel"] == "email"))
                .cloned()
                .unwrap_or(Value::Null);
            let sent = email["sent"].as_i64().unwrap_or(0);
            failed = email["failed"].as_i64().unwrap_or(0);
            if p["status"] == "done" && email["queued"].as_i64() == Some(0) && sent + failed > 0 {
                sent_s = Some(t0.elapsed().as_secs_f64());
            }
        }
        if a.mail_dir.is_none() && sent_s.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let at_sink = mail_files(&a.mail_dir).saturating_sub(mails_before);
    let line = json!({
        "kind": "announce",
        "recipients_requested": a.recipients,
        "recipients": recipients,
        "seed_seconds": seed_secs,
        "answer_ms": answer_ms,
        "all_at_sink_seconds": at_sink_s,
        "mails_at_sink": if a.mail_dir.is_some() { json!(at_sink) } else { Value::Null },
        "progress_sent_seconds": sent_s,
        "email_failed": failed,
    });
    println!(
        "announcement to {recipients} guardians: 202 in {answer_ms:.1} ms; all {} mails at the sink \
         after {}; progress done after {}",
        a.recipients,
        at_sink_s.map_or("(not reached)".to_owned(), |s| format!("{s:.2} s")),
        sent_s.map_or("(not reached)".to_owned(), |s| format!("{s:.2} s")),
    );
    if let Some(out) = &a.out {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}
