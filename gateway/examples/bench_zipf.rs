//! The mixed read/write benchmark (bench/run.sh scenario `zipf_mixed`):
//! `--connections` workers, each with its own keep-alive connection, pick
//! seeded students with a Zipf distribution (a few records are read far more
//! than the rest, as in a school day) and either read one (`GET`) or, with
//! probability `--write-share`, rename it (`PATCH` with the version last seen).
//!
//! It reports throughput, latency percentiles, the cache hit rate (from the
//! `X-Cache` header of each read) and stale reads for writers: after a worker
//! wrote version v of a record, every later read of it by that worker must
//! show a version >= v. One JSON line, in the wrk scripts' format plus
//! `cache` and `consistency` objects, is printed and appended to `--out`.
//!
//! Needs the seeder's tokens.txt and student_ids.txt in `--work`.

use std::{
    collections::HashMap,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(about = "Zipf-distributed mixed read/write load with cache hit rate")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8280")]
    base: String,
    #[arg(long, default_value = "bench/.work")]
    work: PathBuf,
    #[arg(long, default_value = "zipf_mixed")]
    scenario: String,
    #[arg(long, default_value_t = 64)]
    connections: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Zipf exponent over the seeded students (rank 1 is the hottest).
    #[arg(long, default_value_t = 1.1)]
    zipf_s: f64,
    /// Share of operations that are writes.
    #[arg(long, default_value_t = 0.05)]
    write_share: f64,
    /// File the JSON result line is appended to.
    #[arg(long)]
    out: Option<PathBuf>,
}

struct Target {
    token: String,
    id: String,
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    reads: u64,
    writes: u64,
    conflicts: u64,
    errors: u64,
    hits: u64,
    misses: u64,
    bypasses: u64,
    writer_checks: u64,
    stale_reads: u64,
}

fn load_targets(work: &std::path::Path) -> Result<Vec<Target>> {
    let tokens: Vec<String> = std::fs::read_to_string(work.join("tokens.txt"))
        .context("tokens.txt (run the seeder first)")?
        .lines()
        .filter(|l| !l.is_empty())
        .map(|t| format!("Bearer {t}"))
        .collect();
    let mut targets = Vec::new();
    for line in std::fs::read_to_string(work.join("student_ids.txt"))?.lines() {
        let Some((school, id)) = line.split_once(' ') else {
            continue;
        };
        let school: usize = school.parse()?;
        let token = tokens
            .get(school - 1)
            .context("student_ids.txt names an unknown school")?;
        targets.push(Target {
            token: token.clone(),
            id: id.to_owned(),
        });
    }
    ensure!(!targets.is_empty(), "no students in student_ids.txt");
    Ok(targets)
}

async fn worker(n: usize, args: &Args, targets: &[Target], until: Instant) -> Result<Tally> {
    let http = Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(5))
        .build()?;
    let mut rng = StdRng::seed_from_u64(0x5eed + n as u64);
    let zipf = Zipf::new(targets.len() as u64, args.zipf_s)?;
    let mut t = Tally::default();
    let mut versions: HashMap<usize, i64> = HashMap::new();
    let mut written: HashMap<usize, i64> = HashMap::new();
    while Instant::now() < until {
        let rank = zipf.sample(&mut rng) as usize - 1;
        // Rank -> record through a fixed permutation (7919 is prime), the same
        // for every worker, so the hot records spread over all schools.
        let i = (rank * 7_919) % targets.len();
        let target = &targets[i];
        let url = format!("{}/api/v1/students/{}", args.base, target.id);
        let write = rng.gen_bool(args.write_share) && versions.contains_key(&i);
        let started = Instant::now();
        if write {
            let body =
                json!({"version": versions[&i], "given_name": format!("Z{}", rng.gen::<u32>())});
            let r = http
                .patch(&url)
                .header("authorization", &target.token)
                .json(&body)
                .send()
                .await;
            t.latencies_us
                .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
            t.writes += 1;
            match r {
                Ok(r) if r.status() == StatusCode::OK => {
                    let v: Value = r.json().await?;
                    let version = v["version"].as_i64().unwrap_or(0);
                    versions.insert(i, version);
                    written.insert(i, version);
                }
                Ok(r) if r.status() == StatusCode::CONFLICT => {
                    t.conflicts += 1;
                    versions.remove(&i);
                }
                _ => t.errors += 1,
            }
            continue;
        }
        let r = http
            .get(&url)
            .header("authorization", &target.token)
            .send()
            .await;
        t.reads += 1;
        let r = match r {
            Ok(r) if r.status() == StatusCode::OK => r,
            _ => {
                t.latencies_us
                    .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
                t.errors += 1;
                continue;
            }
        };
        match r.headers().get("x-cache").and_then(|v| v.to_str().ok()) {
            Some("HIT") => t.hits += 1,
            Some("MISS") => t.misses += 1,
            _ => t.bypasses += 1,
        }
        let v: Value = r.json().await?;
        t.latencies_us
            .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        let version = v["version"].as_i64().unwrap_or(0);
        if let Some(&mine) = written.get(&i) {
            t.writer_checks += 1;
            if version < mine {
                t.stale_reads += 1;
            }
        }
        versions.insert(i, version);
    }
    Ok(t)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
    f64::from(sorted[idx]) / 1000.0
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let targets = load_targets(&args.work)?;
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let (args_ref, targets_ref) = (&args, &targets[..]);
    let tallies = futures::future::join_all(
        (0..args.connections).map(|n| worker(n, args_ref, targets_ref, until)),
    )
    .await;
    let secs = started.elapsed().as_secs_f64();
    let mut all = Tally::default();
    for t in tallies {
        let t = t?;
        all.latencies_us.extend(t.latencies_us);
        all.reads += t.reads;
        all.writes += t.writes;
        all.conflicts += t.conflicts;
        all.errors += t.errors;
        all.hits += t.hits;
        all.misses += t.misses;
        all.bypasses += t.bypasses;
        all.writer_checks += t.writer_checks;
        all.stale_reads += t.stale_reads;
    }
    all.latencies_us.sort_unstable();
    let l = &all.latencies_us;
    let requests = all.reads + all.writes;
    let mean = l.iter().map(|&v| f64::from(v)).sum::<f64>() / l.len().max(1) as f64 / 1000.0;
    let served = (all.hits + all.misses + all.bypasses).max(1);
    let line = json!({
        "scenario": args.scenario,
        "connections": args.connections,
        "threads": 0,
        "requests": requests,
        "duration_s": secs,
        "rps": requests as f64 / secs,
        "bytes": 0,
        "latency_ms": {
            "p50": percentile(l, 50.0), "p90": percentile(l, 90.0), "p95": percentile(l, 95.0),
            "p99": percentile(l, 99.0), "max": percentile(l, 100.0), "mean": mean, "stdev": 0.0,
        },
        "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": all.errors, "total": all.errors},
        "cache": {
            "zipf_s": args.zipf_s, "write_share": args.write_share, "population": targets.len(),
            "reads": all.reads, "writes": all.writes, "conflicts": all.conflicts,
            "hits": all.hits, "misses": all.misses, "bypasses": all.bypasses,
            "hit_rate": all.hits as f64 / served as f64,
        },
        "consistency": {"writer_reads_checked": all.writer_checks, "stale_reads": all.stale_reads},
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
