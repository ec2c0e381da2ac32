//! Benchmark (issue 17): N concurrent WebSocket connections on one gateway,
//! each a different user of one school, all kept open (pings answered);
//! then the gateway's resident memory, and the event-to-socket latency of
//! pushes to one user at a time while all are open: each push is published
//! to Redis (`platform::realtime::publish`, as notify-svc's push jobs do)
//! and timed until that user's socket reads it.
//!
//! Tokens are signed with the gateway's `JWT_SECRET` (no logins: the figure
//! is the sockets, not argon2). A benchmark, not a test: it reports, never
//! asserts a target. The client needs N file descriptors (`ulimit -n`), as
//! does the gateway.
//!
//! ```text
//! JWT_SECRET=... REDIS_URL=... cargo run --release -p gateway --example bench_ws -- \
//!   --base http://127.0.0.1:8280 --sockets 10000 --gateway-pid <pid> --out bench/.work/notify.jsonl
//! ```

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{ensure, Context, Result};
use clap::Parser;
use futures::{stream, SinkExt, StreamExt};
use platform::{
    caller::{Caller, Role},
    realtime::{self, Kind, Target},
    redis::RedisSettings,
};
use rand::Rng;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue, Message};
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(about = "Hold N WebSocket connections on one gateway and time pushes")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8280")]
    base: String,
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    redis: String,
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: String,
    #[arg(long, env = "JWT_ISSUER", default_value = "schoolhouse")]
    jwt_issuer: String,
    #[arg(long, env = "JWT_AUDIENCE", default_value = "schoolhouse-api")]
    jwt_audience: String,
    /// Connections to open (one user each).
    #[arg(long, default_value_t = 10_000)]
    sockets: usize,
    /// Upgrades in flight while opening.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// Pushes timed (one at a time, each to a random open socket's user).
    #[arg(long, default_value_t = 500)]
    pushes: usize,
    /// Pause between pushes.
    #[arg(long, default_value_t = 20)]
    interval_ms: u64,
    /// The gateway's process id, for its VmRSS / VmHWM.
    #[arg(long)]
    gateway_pid: Option<u32>,
    /// Appends one JSON line with the figures.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// VmRSS and VmHWM of `pid` in KiB.
fn memory(pid: Option<u32>) -> (Option<u64>, Option<u64>) {
    let Some(status) = pid.and_then(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
    else {
        return (None, None);
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    Some(sorted[i.min(sorted.len() - 1)])
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    ensure!(a.sockets >= 1, "--sockets must be at least 1");
    let mut config = gateway::config::Config::for_tests(String::new(), a.redis.clone());
    config.jwt_secret = secrecy::SecretString::from(a.jwt_secret.clone());
    config.jwt_issuer = a.jwt_issuer.clone();
    config.jwt_audience = a.jwt_audience.clone();
    let tokens = Arc::new(gateway::auth::Tokens::new(&config));
    let url = format!(
        "{}/api/v1/ws",
        a.base.trim_end_matches('/').replacen("http", "ws", 1)
    );
    let school = Uuid::now_v7();
    let (rss_before, _) = memory(a.gateway_pid);

    // Every socket reports the pushes it reads: (push number, when).
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<(u64, Instant)>();
    let opened = Instant::now();
    let results: Vec<Result<Uuid>> = stream::iter(0..a.sockets)
        .map(|_| {
            let (tokens, url, seen) = (tokens.clone(), url.clone(), seen_tx.clone());
            async move {
                let caller = Caller {
                    school_id: school,
                    user_id: Uuid::now_v7(),
                    role: Role::Guardian,
                    student_id: None,
                };
                let token = tokens.issue_unrecorded(&caller)?;
                let mut req = url.as_str().into_client_request()?;
                req.headers_mut().insert(
                    "sec-websocket-protocol",
                    HeaderValue::from_str(&format!("bearer, {token}"))?,
                );
                let (ws, _) = tokio::time::timeout(
                    Duration::from_secs(30),
                    tokio_tungstenite::connect_async(req),
                )
                .await
                .context("upgrade timed out")??;
                // Held until the process ends: reads answer the gateway's
                // pings; a bench push is reported with its arrival time.
                tokio::spawn(async move {
                    let (mut sink, mut read) = ws.split();
                    while let Some(Ok(m)) = read.next().await {
                        match m {
                            Message::Text(t) => {
                                let now = Instant::now();
                                let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                                if let Some(n) = v["payload"]["bench_push"].as_u64() {
                                    let _ = seen.send((n, now));
                                }
                            }
                            Message::Ping(p) => {
                                let _ = sink.send(Message::Pong(p)).await;
                            }
                            Message::Close(_) => break,
                            _ => {}
                        }
                    }
                });
                Ok(caller.user_id)
            }
        })
        .buffer_unordered(a.concurrency)
        .collect()
        .await;
    let open_secs = opened.elapsed().as_secs_f64();
    let mut users = Vec::new();
    let mut errors: HashMap<String, usize> = HashMap::new();
    for r in results {
        match r {
            Ok(u) => users.push(u),
            Err(e) => *errors.entry(e.to_string()).or_default() += 1,
        }
    }
    eprintln!(
        "bench_ws: {} of {} sockets open in {open_secs:.1} s; errors {errors:?}",
        users.len(),
        a.sockets
    );
    ensure!(!users.is_empty(), "no socket opened: {errors:?}");
    // Let the gateway settle (its per-socket tasks, the school's
    // subscription) before reading its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_open, hwm_open) = memory(a.gateway_pid);

    let publisher = platform::redis::client(
        &a.redis,
        &RedisSettings {
            command_timeout: Duration::from_secs(2),
            ..Default::default()
        },
    )?;
    fred::interfaces::ClientLike::init(&publisher).await?;
    let kind = Kind::try_from("bench.push".to_owned())?;
    let mut latencies = Vec::with_capacity(a.pushes);
    let mut lost = 0usize;
    for n in 0..a.pushes as u64 {
        let user = users[rand::thread_rng().gen_range(0..users.len())];
        let sent = Instant::now();
        realtime::publish(
            &publisher,
            school,
            Target::User(user),
            kind.clone(),
            json!({"bench_push": n}),
        )
        .await?;
        let got = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some((m, at)) = seen_rx.recv().await {
                if m == n {
                    return Some(at);
                }
            }
            None
        })
        .await;
        match got {
            Ok(Some(at)) => latencies.push(at.duration_since(sent).as_secs_f64() * 1000.0),
            _ => lost += 1,
        }
        tokio::time::sleep(Duration::from_millis(a.interval_ms)).await;
    }
    let (rss_end, hwm_end) = memory(a.gateway_pid);
    latencies.sort_by(|x, y| x.total_cmp(y));
    let (p50, p99, max) = (
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied(),
    );
    let line = json!({
        "kind": "ws",
        "sockets_requested": a.sockets,
        "sockets_open": users.len(),
        "open_errors": errors,
        "open_seconds": open_secs,
        "gateway_rss_kib_before": rss_before,
        "gateway_rss_kib_open": rss_open,
        "gateway_hwm_kib_open": hwm_open,
        "gateway_rss_kib_end": rss_end,
        "gateway_hwm_kib_end": hwm_end,
        "pushes": a.pushes,
        "pushes_lost": lost,
        "latency_ms_p50": p50,
        "latency_ms_p99": p99,
        "latency_ms_max": max,
    });
    println!(
        "{} sockets open: gateway RSS {} MiB (peak {}); push to one user: p50 {} ms, p99 {} ms, \
         max {} ms, {lost} lost of {}",
        users.len(),
        rss_open.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        hwm_end.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        p50.map_or("?".into(), |v| format!("{v:.2}")),
        p99.map_or("?".into(), |v| format!("{v:.2}")),
        max.map_or("?".into(), |v| format!("{v:.2}")),
        a.pushes,
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
