//! Times the web console from the sign-in click to the rendered school
//! dashboard, in headless Chromium (Debian's `chromium` and
//! `chromium-driver`, as the browser tests), against a running system:
//!
//! cargo run -p gateway --example console_timing -- \
//!     --base http://127.0.0.1:8080 --runs 8
//!
//! Defaults are `make run`'s demo admin (school `demo`). Each run signs out,
//! fills the sign-in form, clicks "Sign in" through WebDriver (a real click)
//! and waits in the page, on a DOM condition, for the dashboard: its tiles
//! and `--charts` SVG charts in the document. The time is the page's own
//! clock (`performance.now()`), from the click event to the first animation
//! frame after that condition holds, so WebDriver's round trips are not in
//! it. The console's files are loaded with the sign-in page, before the
//! click, as on any visit; the first run is a new window's first sign-in,
//! the others sign in again in the same window.
//! Prints every run, then p50 and max over all runs, with the login and
//! dashboard API times the browser saw (Resource Timing).
//!
//! The gateway allows 10 logins a minute per account and per address
//! (`RATE_LIMIT_LOGIN`): a refused login is retried by the console after
//! `Retry-After`, which would be timed too, so a run that needed more than
//! one login request fails the measurement instead of skewing it.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use fantoccini::{wd::TimeoutConfiguration, Client, ClientBuilder, Locator};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(about = "Time the web console from sign-in to a rendered dashboard")]
struct Args {
    /// The gateway serving the console (`make run`: http://127.0.0.1:8080).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    #[arg(long, default_value_t = 8)]
    runs: usize,
    #[arg(long, default_value = "demo")]
    school: String,
    #[arg(long, default_value = "admin@demo.school")]
    email: String,
    #[arg(long, default_value = "demo-password-123")]
    password: String,
    /// Charts the dashboard must show (the demo school has attendance and
    /// fees: 2).
    #[arg(long, default_value_t = 2)]
    charts: usize,
    /// Give up on one run after this many seconds.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// The chromedriver binary.
    #[arg(long, default_value = "chromedriver")]
    chromedriver: String,
}

/// Set up before the click: the click's time (capture phase, before the
/// form's handler runs) and an observer that stamps the first animation
/// frame after the dashboard is in the document. Resource timings are
/// cleared so that this run's requests alone are reported.
const ARM: &str = r#"
const want = arguments[0];
performance.clearResourceTimings();
window.__timing = { clicked: null, rendered: null };
const ready = () => document.getElementById('tiles')
  && document.querySelectorAll('svg.chart').length >= want;
document.addEventListener('click', () => { window.__timing.clicked = performance.now(); },
  { capture: true, once: true });
const observer = new MutationObserver(() => {
  if (window.__timing.clicked === null || !ready()) return;
  observer.disconnect();
  requestAnimationFrame(() => { window.__timing.rendered = performance.now(); });
});
observer.observe(document.body, { childList: true, subtree: true });
"#;

/// Waits (in the page) for the stamp `ARM` set up, or for a problem the
/// sign-in page shows; answers the timing and the API calls' durations.
const COLLECT: &str = r#"
const done = arguments[arguments.length - 1];
const poll = () => {
  const t = window.__timing;
  const problem = document.querySelector('.problem');
  if (problem) return done({ problem: problem.innerText });
  if (t.rendered === null) return setTimeout(poll, 5);
  const calls = performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/api/v1/'))
    .map((e) => ({ path: new URL(e.name).pathname, ms: e.duration, status: e.responseStatus || 0 }));
  done({ ms: t.rendered - t.clicked, page_ms: Number(document.body.dataset.dashboardMs || 0), calls });
};
poll();
"#;

struct Run {
    ms: f64,
    login_ms: f64,
    dashboard_api_ms: f64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.runs >= 1, "--runs must be at least 1");
    let base = args.base.trim_end_matches('/').to_owned();
    let driver = Driver::start(&args.chromedriver).await?;
    let browser = driver.browser(args.timeout_secs).await?;
    let result = measure(&browser, &base, &args).await;
    let _ = browser.close().await;
    let runs = result?;

    let mut all: Vec<f64> = runs.iter().map(|r| r.ms).collect();
    all.sort_by(f64::total_cmp);
    let p50 = all[(all.len() - 1) / 2];
    let max = all[all.len() - 1];
    println!(
        "sign-in click to rendered dashboard, {} runs at {base}: p50 {p50:.0} ms, max {max:.0} ms \
         (first run, a new window: {:.0} ms)",
        runs.len(),
        runs[0].ms
    );
    Ok(())
}

async fn measure(c: &Client, base: &str, args: &Args) -> Result<Vec<Run>> {
    let mut runs = Vec::with_capacity(args.runs);
    for i in 0..args.runs {
        sign_in_page(c, base).await?;
        for (name, value) in [
            ("school", &args.school),
            ("email", &args.email),
            ("password", &args.password),
        ] {
            let input = c.find(Locator::Css(&format!("input[name={name}]"))).await?;
            input.clear().await?;
            input.send_keys(value).await?;
        }
        c.execute(ARM, vec![json!(args.charts)]).await?;
        c.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        let got = c.execute_async(COLLECT, vec![]).await.with_context(|| {
            format!(
                "run {}: no dashboard with {} charts within {} s",
                i + 1,
                args.charts,
                args.timeout_secs
            )
        })?;
        if let Some(problem) = got["problem"].as_str() {
            bail!("run {}: sign-in refused: {problem}", i + 1);
        }
        let run = parse_run(i, &got)?;
        println!(
            "run {:>2}: {:>5.0} ms  (login {:.0} ms, dashboard API {:.0} ms; the page's own count from submit: {} ms)",
            i + 1,
            run.ms,
            run.login_ms,
            run.dashboard_api_ms,
            got["page_ms"]
        );
        runs.push(run);
    }
    Ok(runs)
}

/// The sign-in page with nothing kept: the session is dropped the way the
/// console's sign-out drops it.
async fn sign_in_page(c: &Client, base: &str) -> Result<()> {
    c.goto(&format!("{base}/signin")).await?;
    c.execute("sessionStorage.clear()", vec![]).await?;
    c.goto(&format!("{base}/signin")).await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("input[name=school]"))
        .await
        .context("the sign-in page did not load")?;
    Ok(())
}

fn parse_run(i: usize, got: &Value) -> Result<Run> {
    let calls = got["calls"].as_array().cloned().unwrap_or_default();
    let logins: Vec<&Value> = calls
        .iter()
        .filter(|c| c["path"] == "/api/v1/auth/login")
        .collect();
    if logins.len() != 1 || logins.iter().any(|c| c["status"] == 429) {
        bail!(
            "run {}: the login was rate limited and retried (RATE_LIMIT_LOGIN; \
             fewer --runs, or wait a minute): {calls:?}",
            i + 1
        );
    }
    let dashboard_api_ms = calls
        .iter()
        .filter(|c| {
            c["path"].as_str().is_some_and(|p| {
                p.starts_with("/api/v1/dashboards/") || p.starts_with("/api/v1/reports/")
            })
        })
        .filter_map(|c| c["ms"].as_f64())
        .fold(0.0, f64::max);
    Ok(Run {
        ms: got["ms"].as_f64().context("no time measured")?,
        login_ms: logins[0]["ms"].as_f64().unwrap_or_default(),
        dashboard_api_ms,
    })
}

/// A chromedriver of our own on a free port; killed on drop.
struct Driver {
    url: String,
    child: Child,
}

impl Driver {
    async fn start(binary: &str) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("{binary} did not start: `apt-get install -y chromium chromium-driver`")
            })?;
        let driver = Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
        };
        let status = format!("{}/status", driver.url);
        for _ in 0..100 {
            if let Ok(r) = reqwest::get(&status).await {
                if r.json::<Value>().await.unwrap_or_default()["value"]["ready"] == true {
                    return Ok(driver);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("chromedriver did not become ready in 10 s")
    }

    /// A headless window with a fresh profile (an empty cache).
    async fn browser(&self, timeout_secs: u64) -> Result<Client> {
        let Value::Object(caps) = json!({
            "goog:chromeOptions": {
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1280,1000", "--lang=en-GB"]
            }
        }) else {
            unreachable!()
        };
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("a Chromium session")?;
        c.update_timeouts(TimeoutConfiguration::new(
            Some(Duration::from_secs(timeout_secs)),
            None,
            None,
        ))
        .await?;
        Ok(c)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
