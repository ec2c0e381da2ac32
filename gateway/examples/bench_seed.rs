//! Seeds the benchmark data set through the public HTTP API and writes what the
//! wrk scripts need (see bench/README.md).
//!
//! cargo run --release -p gateway --example bench_seed -- \
//!     --base http://127.0.0.1:8280 --operator-token "$OPERATOR_TOKEN" \
//!     --schools 20 --students 50000 --out bench/.work/seed.json
//!
//! Schools are `bench-01`..`bench-NN`, each with a known admin password, so an
//! existing school (409) is reused by logging in. Students are generated
//! deterministically per (school, index): re-running after an interruption
//! creates only the missing ones (a 409 on an admission number is resolved to
//! the existing id with a `q=` lookup). If `--out` exists and a sample of its
//! ids still resolves, seeding is skipped; tokens and deep cursors are always
//! refreshed (tokens expire after an hour).
//!
//! Besides the JSON file, writes next to it:
//!   tokens.txt       one admin bearer token per line, school order
//!   student_ids.txt  "<school line in tokens.txt, 1-based> <student uuid>"
//!   deep_cursors.txt "<school line in tokens.txt, 1-based> <cursor>"

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};
use chrono::{Days, NaiveDate};
use clap::Parser;
use futures::{stream, StreamExt, TryStreamExt};
use rand::{rngs::StdRng, Rng, SeedableRng};
use reqwest::{Client, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(about = "Seed the Schoolhouse benchmark data set")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8280")]
    base: String,
    #[arg(long, env = "OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: String,
    #[arg(long, default_value_t = 20)]
    schools: usize,
    /// Total students, spread evenly over the schools.
    #[arg(long, default_value_t = 50_000)]
    students: usize,
    /// Requests in flight while creating students.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// How many schools get a deep cursor (the first N).
    #[arg(long, default_value_t = 2)]
    deep_schools: usize,
    /// How far through a school's list the deep cursor points (0..1).
    #[arg(long, default_value_t = 0.8)]
    deep_fraction: f64,
    #[arg(long, default_value = "bench/.work/seed.json")]
    out: PathBuf,
    /// Seed even if the output file looks valid.
    #[arg(long)]
    force: bool,
}

const ADMIN_PASSWORD: &str = "bench-admin-password-1";
const PAGE: usize = 100;

const GIVEN: &[&str] = &[
    "Ada", "Aiko", "Amara", "Ana", "Arjun", "Ben", "Bilal", "Camille", "Chen", "Chloe", "Dev",
    "Diego", "Elif", "Emma", "Esi", "Farid", "Fatima", "Grace", "Hana", "Hugo", "Ines", "Ivan",
    "Jun", "Kofi", "Lars", "Layla", "Leo", "Lucia", "Mateo", "Maya", "Mei", "Nadia", "Noah",
    "Omar", "Priya", "Rafael", "Sofia", "Tariq", "Yara", "Zoe",
];
const FAMILY: &[&str] = &[
    "Adeyemi",
    "Alvarez",
    "Andersen",
    "Bianchi",
    "Brown",
    "Chen",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fischer",
    "Garcia",
    "Haddad",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kim",
    "Kowalski",
    "Lindqvist",
    "Mensah",
    "Moreau",
    "Nakamura",
    "Novak",
    "Nguyen",
    "Okafor",
    "Olsen",
    "Patel",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sato",
    "Schmidt",
    "Silva",
    "Singh",
    "Tanaka",
    "Van Dijk",
    "Wagner",
    "Walsh",
    "Yilmaz",
    "Zhang",
    "O'Brien",
];
const SECTIONS: &[&str] = &["A", "B", "C", "D"];

#[derive(Serialize, Deserialize, Clone, Debug)]
struct SchoolOut {
    slug: String,
    school_id: String,
    admin_email: String,
    admin_token: String,
    student_count: usize,
    student_ids: Vec<String>,
    deep_cursor: Option<String>,
    /// Page index (0-based) the deep cursor leads to.
    deep_cursor_page: Option<usize>,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct SeedOut {
    base: String,
    schools_requested: usize,
    students_per_school: usize,
    /// Figures of the run that actually created the students.
    seeded_at: String,
    seed_students_created: usize,
    seed_seconds: f64,
    seed_students_per_sec: f64,
    seed_concurrency: usize,
    /// When tokens and cursors were last refreshed.
    refreshed_at: String,
    schools: Vec<SchoolOut>,
}

struct School {
    idx: usize,
    slug: String,
    school_id: String,
    email: String,
    token: String,
}

fn slug(i: usize) -> String {
    format!("bench-{:02}", i + 1)
}

fn admission_no(i: usize) -> String {
    format!("BN-{i:05}")
}

fn student_body(school: usize, i: usize) -> Value {
    let mut rng = StdRng::seed_from_u64(((school as u64) << 32) | i as u64);
    let base = NaiveDate::from_ymd_opt(2008, 1, 1).expect("valid date");
    // 2008-01-01 .. 2020-12-31
    let dob = base + Days::new(rng.gen_range(0..4748));
    let grade = rng.gen_range(0..=12);
    let mut body = json!({
        "admission_no": admission_no(i),
        "given_name": GIVEN[rng.gen_range(0..GIVEN.len())],
        "family_name": FAMILY[rng.gen_range(0..FAMILY.len())],
        "date_of_birth": dob.format("%Y-%m-%d").to_string(),
        "grade_level": grade,
    });
    // A few students without a section, like real data.
    if rng.gen_range(0..20) != 0 {
        body["section"] = json!(SECTIONS[rng.gen_range(0..SECTIONS.len())]);
    }
    body
}

async fn check(resp: reqwest::Response, what: &str) -> Result<Value> {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    ensure!(status.is_success(), "{what}: HTTP {status}: {text}");
    serde_json::from_str(&text).with_context(|| format!("{what}: bad JSON: {text}"))
}

async fn ensure_school(c: &Client, a: &Args, idx: usize) -> Result<School> {
    let slug = slug(idx);
    let email = format!("admin@{slug}.bench.test");
    let resp = c
        .post(format!("{}/api/v1/schools", a.base))
        .bearer_auth(&a.operator_token)
        .json(&json!({
            "name": format!("Bench School {:02}", idx + 1),
            "slug": slug,
            "admin": {"email": email, "password": ADMIN_PASSWORD, "full_name": format!("Bench Admin {:02}", idx + 1)},
        }))
        .send()
        .await?;
    if resp.status() != StatusCode::CONFLICT {
        check(resp, &format!("create school {slug}")).await?;
    }
    let login = check(
        c.post(format!("{}/api/v1/auth/login", a.base))
            .json(&json!({"school": slug, "email": email, "password": ADMIN_PASSWORD}))
            .send()
            .await?,
        &format!("login to {slug}"),
    )
    .await?;
    let token = login["access_token"]
        .as_str()
        .context("login: no access_token")?
        .to_owned();
    let school_id = login["user"]["school_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(School {
        idx,
        slug,
        school_id,
        email,
        token,
    })
}

/// Creates one student; on 409 finds the existing one by admission number.
async fn create_student(c: &Client, base: &str, s: &School, i: usize) -> Result<(String, bool)> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let resp = c
            .post(format!("{base}/api/v1/students"))
            .bearer_auth(&s.token)
            .json(&student_body(s.idx, i))
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) if attempt < 5 => {
                eprintln!("create {}/{}: {e}; retrying", s.slug, admission_no(i));
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let status = resp.status();
        if status == StatusCode::CONFLICT {
            return Ok((find_by_admission(c, base, s, i).await?, false));
        }
        if status.is_server_error() && attempt < 5 {
            eprintln!(
                "create {}/{}: HTTP {status}; retrying",
                s.slug,
                admission_no(i)
            );
            tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            continue;
        }
        let v = check(
            resp,
            &format!("create student {}/{}", s.slug, admission_no(i)),
        )
        .await?;
        return Ok((v["id"].as_str().context("no id")?.to_owned(), true));
    }
}

async fn find_by_admission(c: &Client, base: &str, s: &School, i: usize) -> Result<String> {
    let no = admission_no(i);
    let v = check(
        c.get(format!("{base}/api/v1/students"))
            .bearer_auth(&s.token)
            .query(&[("q", no.as_str()), ("limit", "5")])
            .send()
            .await?,
        &format!("find {}/{no}", s.slug),
    )
    .await?;
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|it| it["admission_no"].as_str() == Some(no.as_str()))
        .and_then(|it| it["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("{}/{no} answered 409 but cannot be found", s.slug))
}

/// Walks the school's list with limit=100 and returns the cursor leading to
/// the page `fraction` of the way through.
async fn deep_cursor(
    c: &Client,
    base: &str,
    s: &School,
    count: usize,
    fraction: f64,
) -> Result<Option<(String, usize)>> {
    let target_page = ((count as f64 * fraction) / PAGE as f64).floor() as usize;
    if target_page == 0 {
        return Ok(None);
    }
    let mut cursor: Option<String> = None;
    for page in 1..=target_page {
        let mut req = c
            .get(format!("{base}/api/v1/students"))
            .bearer_auth(&s.token)
            .query(&[("limit", PAGE.to_string())]);
        if let Some(cur) = &cursor {
            req = req.query(&[("cursor", cur)]);
        }
        let v = check(req.send().await?, &format!("list {} page {page}", s.slug)).await?;
        match v["next_cursor"].as_str() {
            Some(n) => cursor = Some(n.to_owned()),
            None => return Ok(cursor.map(|c| (c, page - 1))),
        }
    }
    Ok(cursor.map(|c| (c, target_page)))
}

/// True if the previous output still matches the database: same parameters
/// and a sample of its ids (spread over all schools) can be read.
async fn still_valid(c: &Client, a: &Args, prev: &SeedOut, schools: &[School], per: usize) -> bool {
    if prev.schools.len() != schools.len() || prev.students_per_school != per {
        return false;
    }
    let mut rng = StdRng::from_entropy();
    let mut probes = Vec::new();
    for (p, s) in prev.schools.iter().zip(schools) {
        if p.slug != s.slug || p.student_ids.len() != per || p.school_id != s.school_id {
            return false;
        }
        for _ in 0..3 {
            let id = p.student_ids[rng.gen_range(0..per)].clone();
            probes.push((s.token.clone(), id));
        }
    }
    stream::iter(probes)
        .map(|(token, id)| async move {
            c.get(format!("{}/api/v1/students/{id}", a.base))
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status() == StatusCode::OK)
                .unwrap_or(false)
        })
        .buffer_unordered(16)
        .all(|ok| async move { ok })
        .await
}

fn write_outputs(out: &Path, seed: &SeedOut) -> Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = out.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(seed)?)?;
    std::fs::rename(&tmp, out)?;
    let mut tokens = String::new();
    let mut ids = String::new();
    let mut cursors = String::new();
    for (n, s) in seed.schools.iter().enumerate() {
        tokens.push_str(&s.admin_token);
        tokens.push('\n');
        for id in &s.student_ids {
            ids.push_str(&format!("{} {id}\n", n + 1));
        }
        if let Some(c) = &s.deep_cursor {
            cursors.push_str(&format!("{} {c}\n", n + 1));
        }
    }
    std::fs::write(dir.join("tokens.txt"), tokens)?;
    std::fs::write(dir.join("student_ids.txt"), ids)?;
    std::fs::write(dir.join("deep_cursors.txt"), cursors)?;
    Ok(())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    ensure!(a.schools >= 1 && a.schools <= 99, "--schools must be 1..99");
    ensure!(a.concurrency >= 1, "--concurrency must be at least 1");
    let per = a.students / a.schools;
    ensure!(
        (1..=99_999).contains(&per),
        "--students / --schools must be 1..99999"
    );
    let client = Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;

    // Schools and logins (argon2 is slow on purpose: a few at a time).
    let started = Instant::now();
    let mut schools: Vec<School> = stream::iter(0..a.schools)
        .map(|i| ensure_school(&client, &a, i))
        .buffered(4)
        .try_collect()
        .await?;
    schools.sort_by_key(|s| s.idx);
    println!(
        "bench_seed: {} schools ready and logged in ({:.1} s)",
        schools.len(),
        started.elapsed().as_secs_f64()
    );

    let prev: Option<SeedOut> = std::fs::read(&a.out)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let reuse = match &prev {
        Some(p) if !a.force => still_valid(&client, &a, p, &schools, per).await,
        _ => false,
    };

    let mut seed = if let (true, Some(p)) = (reuse, prev) {
        println!(
            "bench_seed: {} reused ({} students/school; seeded {} at {:.0} students/s)",
            a.out.display(),
            per,
            p.seeded_at,
            p.seed_students_per_sec
        );
        p
    } else {
        println!(
            "bench_seed: creating {} students ({per} per school, {} in flight)...",
            per * a.schools,
            a.concurrency
        );
        let t0 = Instant::now();
        // Interleave schools so every moment sees a tenant mix.
        let jobs: Vec<(usize, usize)> = (0..per)
            .flat_map(|i| (0..a.schools).map(move |s| (s, i)))
            .collect();
        let total = jobs.len();
        let mut ids = vec![vec![String::new(); per]; a.schools];
        let mut created = 0usize;
        let mut done = 0usize;
        let mut results = stream::iter(jobs)
            .map(|(s, i)| {
                let (client, base, school) = (&client, a.base.as_str(), &schools[s]);
                async move {
                    create_student(client, base, school, i)
                        .await
                        .map(|r| (s, i, r))
                }
            })
            .buffer_unordered(a.concurrency);
        while let Some(r) = results.next().await {
            let (s, i, (id, new)) = r?;
            ids[s][i] = id;
            created += usize::from(new);
            done += 1;
            if done.is_multiple_of(10_000) {
                println!(
                    "bench_seed:   {done}/{total} ({:.0}/s)",
                    done as f64 / t0.elapsed().as_secs_f64()
                );
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        let rate = total as f64 / secs;
        println!(
            "bench_seed: seeded {total} students ({created} new) in {secs:.1} s: {rate:.0} students/s"
        );
        SeedOut {
            base: a.base.clone(),
            schools_requested: a.schools,
            students_per_school: per,
            seeded_at: now(),
            seed_students_created: created,
            seed_seconds: secs,
            seed_students_per_sec: rate,
            seed_concurrency: a.concurrency,
            refreshed_at: String::new(),
            schools: schools
                .iter()
                .zip(ids)
                .map(|(s, ids)| SchoolOut {
                    slug: s.slug.clone(),
                    school_id: s.school_id.clone(),
                    admin_email: s.email.clone(),
                    admin_token: String::new(),
                    student_count: ids.len(),
                    student_ids: ids,
                    deep_cursor: None,
                    deep_cursor_page: None,
                })
                .collect(),
        }
    };

    // Fresh tokens and deep cursors on every run.
    let t1 = Instant::now();
    for (out, s) in seed.schools.iter_mut().zip(&schools) {
        out.admin_token = s.token.clone();
        out.deep_cursor = None;
        out.deep_cursor_page = None;
        if s.idx < a.deep_schools {
            if let Some((c, page)) = deep_cursor(&client, &a.base, s, per, a.deep_fraction).await? {
                out.deep_cursor = Some(c);
                out.deep_cursor_page = Some(page);
            }
        }
    }
    if a.deep_schools > 0 && seed.schools.iter().all(|s| s.deep_cursor.is_none()) {
        bail!("no deep cursor could be obtained (too few students?)");
    }
    println!(
        "bench_seed: deep cursors for {} school(s) in {:.1} s",
        seed.schools
            .iter()
            .filter(|s| s.deep_cursor.is_some())
            .count(),
        t1.elapsed().as_secs_f64()
    );
    seed.refreshed_at = now();
    write_outputs(&a.out, &seed)?;
    println!("bench_seed: wrote {}", a.out.display());
    Ok(())
}
