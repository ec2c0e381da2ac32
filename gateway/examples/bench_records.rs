//! The records benchmark (bench/run.sh scenario `records`), three figures of
//! the school-records issue, all through the gateway's HTTP API:
//!
//! 1. Bulk attendance: `--teachers` teachers (each its own login and a course
//!    of `--class-size` enrolled students, set up first) mark whole sessions
//!    concurrently, one `PUT /courses/{id}/attendance/{date}` after another,
//!    each with fresh statuses, for `--seconds`: rps and latency percentiles.
//!    Then paced (`--pace-ms`): every teacher at the same instant each
//!    period, and again spread evenly over the period.
//! 2. Import: one CSV of `--import-rows` students into a school of its own:
//!    wall time of the request.
//! 3. Outbox publish lag under that load: the p50/p99 of students-svc's
//!    `outbox_publish_lag_seconds` histogram (its `/metrics`, scraped around
//!    each phase once the relay has caught up, buckets diffed), from the
//!    event row's insert in the change's transaction to the event being in
//!    its Redis Stream; overall and per phase.
//!
//! One JSON line is printed and appended to `--out`. Needs the seeder's
//! tokens.txt and student_ids.txt in `--work`, and OPERATOR_TOKEN.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use rand::{rngs::StdRng, Rng, SeedableRng};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(about = "Bulk attendance, CSV import and outbox lag through the HTTP API")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8280")]
    base: String,
    /// students-svc's admin listener (`/metrics`).
    #[arg(long, default_value = "http://127.0.0.1:9281")]
    students_admin: String,
    #[arg(long, default_value = "bench/.work")]
    work: PathBuf,
    #[arg(long, default_value_t = 32)]
    teachers: usize,
    #[arg(long, default_value_t = 40)]
    class_size: usize,
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// After the closed-loop run, a paced one: each teacher starts a request
    /// every this many milliseconds (0: skip).
    #[arg(long, default_value_t = 100)]
    pace_ms: u64,
    #[arg(long, default_value_t = 10_000)]
    import_rows: usize,
    #[arg(long, env = "OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: String,
    #[arg(long)]
    out: Option<PathBuf>,
}

const PASSWORD: &str = "bench-teacher-password-1";
const STATUSES: [&str; 4] = ["present", "absent", "late", "excused"];

struct Class {
    token: String,
    course: String,
    students: Vec<String>,
}

async fn ok(r: reqwest::Response, what: &str) -> Result<Value> {
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    ensure!(status.is_success(), "{what}: {status} {body}");
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Seeded students by school (1-based, the line of tokens.txt).
type StudentsBySchool = BTreeMap<usize, Vec<String>>;

/// Admin tokens per school and the seeded students of each school.
fn load(work: &std::path::Path) -> Result<(Vec<String>, StudentsBySchool)> {
    let tokens: Vec<String> = std::fs::read_to_string(work.join("tokens.txt"))
        .context("tokens.txt (run the seeder first)")?
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let mut students: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for line in std::fs::read_to_string(work.join("student_ids.txt"))?.lines() {
        if let Some((school, id)) = line.split_once(' ') {
            students
                .entry(school.parse()?)
                .or_default()
                .push(id.to_owned());
        }
    }
    Ok((tokens, students))
}

/// A teacher, their course and its enrolled class in school `school` (1-based).
async fn class(
    http: &Client,
    args: &Args,
    run: &str,
    n: usize,
    school: usize,
    admin: &str,
    pool: &[String],
) -> Result<Class> {
    let base = &args.base;
    let slug = format!("bench-{school:02}");
    let email = format!("t{n}-{run}@{slug}.bench.test");
    let user = ok(
        http.post(format!("{base}/api/v1/users"))
            .bearer_auth(admin)
            .json(&json!({"email": email, "password": PASSWORD,
                "full_name": format!("Teacher {n}"), "role": "teacher"}))
            .send()
            .await?,
        "create teacher",
    )
    .await?;
    let login = ok(
        http.post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"school": slug, "email": email, "password": PASSWORD}))
            .send()
            .await?,
        "teacher login",
    )
    .await?;
    let course = ok(
        http.post(format!("{base}/api/v1/courses"))
            .bearer_auth(admin)
            .json(
                &json!({"code": format!("R{run}-{n}"), "name": format!("Bench class {n}"),
                "term": "2026-T1", "teacher_id": user["id"], "capacity": args.class_size}),
            )
            .send()
            .await?,
        "create course",
    )
    .await?;
    let course = course["id"].as_str().context("course id")?.to_owned();
    ensure!(
        pool.len() >= args.class_size,
        "school {slug} has only {} seeded students in student_ids.txt",
        pool.len()
    );
    let students: Vec<String> = pool
        .iter()
        .skip(n % (pool.len() - args.class_size + 1))
        .take(args.class_size)
        .cloned()
        .collect();
    for s in &students {
        ok(
            http.post(format!("{base}/api/v1/courses/{course}/enrolments"))
                .bearer_auth(admin)
                .json(&json!({"student_id": s}))
                .send()
                .await?,
            "enrol",
        )
        .await?;
    }
    Ok(Class {
        token: login["access_token"]
            .as_str()
            .context("access token")?
            .to_owned(),
        course,
        students,
    })
}

/// Where a teacher is in their term: carried from one phase to the next,
/// so every phase marks sessions never marked before (restarting would
/// make a later phase replay the same statuses onto the same sessions:
/// no-op requests that write nothing and publish nothing).
struct Term {
    rng: StdRng,
    sessions: u64,
}

impl Term {
    fn new(n: usize) -> Self {
        Self {
            rng: StdRng::seed_from_u64(0xa77e + n as u64),
            sessions: 0,
        }
    }
}

/// Periods a day: a teacher marks periods 1-8 of a school day, then the next day's.
const PERIODS: u64 = 8;

async fn teacher(
    base: &str,
    class: &Class,
    term: &mut Term,
    until: Instant,
    pace: Option<Duration>,
    offset: Duration,
) -> Result<(Vec<u32>, u64)> {
    let http = Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(5))
        .build()?;
    let (mut latencies, mut errors) = (Vec::new(), 0u64);
    let first = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).context("date")?;
    let mut next = Instant::now() + offset;
    while Instant::now() < until {
        if let Some(pace) = pace {
            // Open loop: the schedule does not wait for slow answers, so
            // queueing shows in the latencies instead of hiding in the rate.
            tokio::time::sleep_until(next.into()).await;
            next += pace;
        }
        // A new session every request: 40 first marks, the common write.
        let date = first + chrono::Days::new(term.sessions / PERIODS);
        let period = term.sessions % PERIODS + 1;
        term.sessions += 1;
        let rng = &mut term.rng;
        let entries: Vec<Value> = class
            .students
            .iter()
            .map(|s| {
                let status = if rng.gen_bool(0.9) {
                    "present"
                } else {
                    STATUSES[rng.gen_range(1..4)]
                };
                json!({"student_id": s, "status": status})
            })
            .collect();
        let started = Instant::now();
        let r = http
            .put(format!(
                "{base}/api/v1/courses/{}/attendance/{date}?period={period}",
                class.course
            ))
            .bearer_auth(&class.token)
            .json(&json!({ "entries": entries }))
            .send()
            .await;
        let ok = matches!(&r, Ok(r) if r.status() == StatusCode::OK);
        if let Ok(r) = r {
            let _ = r.bytes().await;
        }
        latencies.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        if !ok {
            errors += 1;
        }
    }
    Ok((latencies, errors))
}

/// How paced teachers line up: all at the same instant every period (the
/// worst case of "concurrent": a burst of one session per teacher at once),
/// or spread evenly over the period (the same rate as a steady stream).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phases {
    Together,
    Staggered,
}

/// All teachers marking for `--seconds`, back to back or paced; the figures.
async fn marking(
    args: &Args,
    classes: &[Class],
    terms: &mut [Term],
    pace: Option<Duration>,
    phases: Phases,
) -> Result<Value> {
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let base = args.base.as_str();
    let offset = |n: usize| match (pace, phases) {
        (Some(p), Phases::Staggered) => p * n as u32 / classes.len().max(1) as u32,
        _ => Duration::ZERO,
    };
    let results = futures::future::join_all(
        classes
            .iter()
            .zip(terms.iter_mut())
            .enumerate()
            .map(|(n, (c, t))| teacher(base, c, t, until, pace, offset(n))),
    )
    .await;
    let secs = started.elapsed().as_secs_f64();
    let (mut latencies, mut errors) = (Vec::new(), 0u64);
    for r in results {
        let (l, e) = r?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    let l = &latencies;
    Ok(json!({
        "teachers": args.teachers, "class_size": args.class_size,
        "pace_ms": pace.map(|p| p.as_millis() as u64),
        "staggered": phases == Phases::Staggered,
        "requests": l.len(), "duration_s": secs, "rps": l.len() as f64 / secs,
        "errors": errors,
        "latency_ms": {"p50": percentile(l, 50.0), "p95": percentile(l, 95.0),
            "p99": percentile(l, 99.0), "max": percentile(l, 100.0)},
    }))
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
    f64::from(sorted[idx]) / 1000.0
}

/// Cumulative bucket counts of one Prometheus histogram: (le, count).
async fn histogram(http: &Client, url: &str, name: &str) -> Result<Vec<(f64, f64)>> {
    let text = http.get(url).send().await?.text().await?;
    let prefix = format!("{name}_bucket{{");
    let mut buckets = Vec::new();
    for line in text.lines().filter(|l| l.starts_with(&prefix)) {
        let le = line
            .split("le=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .context("bucket without le")?;
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse()?
        };
        let count: f64 = line
            .rsplit(' ')
            .next()
            .context("bucket without value")?
            .parse()?;
        buckets.push((le, count));
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(buckets)
}

/// The lag histogram once the relay has caught up: scraped until two scrapes
/// 200 ms apart count the same events (at most 10 s), so a phase's last
/// events are counted in that phase.
async fn settled(http: &Client, url: &str, name: &str) -> Vec<(f64, f64)> {
    let mut last = histogram(http, url, name).await.unwrap_or_default();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = histogram(http, url, name).await.unwrap_or_default();
        let same = now.last().map(|b| b.1) == last.last().map(|b| b.1);
        last = now;
        if same {
            break;
        }
    }
    last
}

/// Events published between two scrapes and their lag percentiles.
fn lag_between(before: &[(f64, f64)], after: &[(f64, f64)]) -> Value {
    let published = after.last().map_or(0.0, |a| a.1) - before.last().map_or(0.0, |b| b.1);
    json!({
        "events_published": published,
        "lag_p50_s_at_most": quantile(before, after, 0.5),
        "lag_p99_s_at_most": quantile(before, after, 0.99),
    })
}

/// The bucket bound under which `q` of the observations between two scrapes
/// fall (an upper bound on the quantile).
fn quantile(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> Option<f64> {
    let diff: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, n)| {
            let old = before
                .iter()
                .find(|(l, _)| l == le)
                .map_or(0.0, |(_, c)| *c);
            (*le, n - old)
        })
        .collect();
    let total = diff.last()?.1;
    if total <= 0.0 {
        return None;
    }
    diff.iter()
        .find(|(_, n)| *n >= q * total)
        .map(|(le, _)| *le)
}

async fn import(http: &Client, args: &Args, run: &str) -> Result<Value> {
    let base = &args.base;
    let slug = format!("imp-{run}");
    let email = format!("admin@{slug}.bench.test");
    ok(
        http.post(format!("{base}/api/v1/schools"))
            .bearer_auth(&args.operator_token)
            .json(&json!({"name": format!("Import {run}"), "slug": slug,
                "admin": {"email": email, "password": PASSWORD, "full_name": "Import Admin"}}))
            .send()
            .await?,
        "create import school",
    )
    .await?;
    let login = ok(
        http.post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"school": slug, "email": email, "password": PASSWORD}))
            .send()
            .await?,
        "import admin login",
    )
    .await?;
    let token = login["access_token"].as_str().context("token")?;
    let mut csv =
        String::from("admission_no,given_name,family_name,date_of_birth,grade_level,section\n");
    for i in 0..args.import_rows {
        csv.push_str(&format!(
            "IMP-{i:06},Given{i},Family{},2014-{:02}-{:02},{},{}\n",
            i % 997,
            i % 12 + 1,
            i % 28 + 1,
            i % 13,
            ["A", "B", "C"][i % 3]
        ));
    }
    let bytes = csv.len();
    let started = Instant::now();
    let r = http
        .post(format!("{base}/api/v1/students/import?mode=all"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?;
    let report = ok(r, "import").await?;
    let secs = started.elapsed().as_secs_f64();
    if report["imported"].as_u64() != Some(args.import_rows as u64) {
        bail!("import reported {report}");
    }
    Ok(
        json!({"rows": args.import_rows, "bytes": bytes, "seconds": secs,
        "rows_per_sec": args.import_rows as f64 / secs}),
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let (tokens, students) = load(&args.work)?;
    ensure!(!tokens.is_empty(), "no schools seeded");
    let run = chrono::Utc::now().format("%H%M%S").to_string();
    let http = Client::builder().timeout(Duration::from_secs(60)).build()?;
    let metrics = format!("{}/metrics", args.students_admin);
    let lag = "outbox_publish_lag_seconds";

    eprintln!(
        "records: setting up {} classes of {}",
        args.teachers, args.class_size
    );
    let mut classes = Vec::new();
    for n in 0..args.teachers {
        let school = n % tokens.len() + 1;
        let pool = students.get(&school).map(Vec::as_slice).unwrap_or_default();
        classes.push(class(&http, &args, &run, n, school, &tokens[school - 1], pool).await?);
    }

    // The lag histogram is scraped around each phase, so each phase's
    // figures are its own (the import's 10,000 events in one commit must not
    // hide, or be hidden by, the attendance writes').
    let mut terms: Vec<Term> = (0..classes.len()).map(Term::new).collect();
    let start = settled(&http, &metrics, lag).await;
    // Each phase's wall-clock window (Unix ms), so that measurements taken
    // alongside (bench_freshness) can be split by phase.
    let unix_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    };
    let mut windows = serde_json::Map::new();
    let t = unix_ms();
    eprintln!(
        "records: {} teachers marking for {} s",
        args.teachers, args.seconds
    );
    let closed = marking(&args, &classes, &mut terms, None, Phases::Together).await?;
    windows.insert("attendance".into(), json!([t, unix_ms()]));
    let after_closed = settled(&http, &metrics, lag).await;
    let pace = Duration::from_millis(args.pace_ms);
    let (paced, after_paced) = if args.pace_ms > 0 {
        eprintln!(
            "records: the same, one request per teacher every {} ms, all at once",
            args.pace_ms
        );
        let t = unix_ms();
        let p = marking(&args, &classes, &mut terms, Some(pace), Phases::Together).await?;
        windows.insert("attendance_paced".into(), json!([t, unix_ms()]));
        (Some(p), settled(&http, &metrics, lag).await)
    } else {
        (None, after_closed.clone())
    };
    let (staggered, after_staggered) = if args.pace_ms > 0 {
        eprintln!("records: the same rate, teachers spread over the period");
        let t = unix_ms();
        let p = marking(&args, &classes, &mut terms, Some(pace), Phases::Staggered).await?;
        windows.insert("attendance_staggered".into(), json!([t, unix_ms()]));
        (Some(p), settled(&http, &metrics, lag).await)
    } else {
        (None, after_paced.clone())
    };

    eprintln!("records: importing {} rows", args.import_rows);
    let t = unix_ms();
    let imported = import(&http, &args, &run).await?;
    windows.insert("import".into(), json!([t, unix_ms()]));
    let end = settled(&http, &metrics, lag).await;

    let line = json!({
        "scenario": "records",
        "attendance": closed,
        "attendance_paced": paced,
        "attendance_staggered": staggered,
        "import": imported,
        "phase_windows_ms": windows,
        "outbox": lag_between(&start, &end),
        "outbox_phases": {
            "attendance": lag_between(&start, &after_closed),
            "attendance_paced": (args.pace_ms > 0).then(|| lag_between(&after_closed, &after_paced)),
            "attendance_staggered": (args.pace_ms > 0).then(|| lag_between(&after_paced, &after_staggered)),
            "import": lag_between(&after_staggered, &end),
        },
    });
    println!("{line}");
    if let Some(out) = &args.out {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}
