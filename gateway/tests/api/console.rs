//! The web console (`web/`) in a real browser: headless Chromium from
//! Debian (`chromium`, `chromium-driver`; `make test` installs them) driven
//! over WebDriver (fantoccini), against the gateway serving the console in
//! front of real students-svc, analytics-svc and notify-svc (events through
//! Redis). On failure every open window's screenshot goes to
//! `target/browser-screenshots/<test>/`; with `UPDATE_SCREENSHOTS=1` the
//! admin dashboard and the teacher's attendance sheet are also written to
//! `docs/screenshots/` (the README shows them).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{Datelike, Days, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use platform::{events::stream_key, redis::RedisSettings, testing::redis::redis_url};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::{e2e::free_port, helpers::*};

const WAIT: Duration = Duration::from_secs(30);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A chromedriver of this test's own, on a free port; killed on drop.
struct Driver {
    url: String,
    child: Child,
}

impl Driver {
    async fn start() -> Self {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver is missing: `apt-get install -y chromium chromium-driver` \
                 (deploy/local/test.sh installs them)",
            );
        let url = format!("http://127.0.0.1:{port}");
        let status = format!("{url}/status");
        platform::testing::eventually("chromedriver to listen", WAIT, || async {
            match reqwest::get(&status).await {
                Ok(r) => r.json::<Value>().await.unwrap_or_default()["value"]["ready"] == true,
                Err(_) => false,
            }
        })
        .await;
        Self { url, child }
    }

    /// A new headless browser window (its own profile: its own sessionStorage).
    async fn browser(&self) -> Client {
        let caps = json!({
            "goog:chromeOptions": {
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1280,1000", "--lang=en-GB"]
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The whole system, the console served by the gateway.
struct System {
    gw: TestGateway,
    bus: fred::clients::Client,
    registry: String,
    _stops: Vec<oneshot::Sender<()>>,
}

async fn system() -> System {
    system_with(|_| {}).await
}

/// The whole system; `tweak` changes the gateway's configuration last.
async fn system_with(tweak: impl FnOnce(&mut gateway::config::Config)) -> System {
    init_logs();
    let redis = redis_url();
    let db = platform::testing::fresh_database().await.unwrap();
    let mut students = students_svc::config::Config::for_database(&db.students_url);
    students.relay_enabled = true;
    students.redis_url = redis.clone();
    students.relay_poll_ms = 5;
    let (students_url, stop_students) = spawn_students_with(&students).await;
    let registry = format!("ev:streams:test:{}", Uuid::new_v4().simple());

    let mut a = analytics_svc::Config::for_database(&db.analytics_url);
    a.consumer_enabled = true;
    a.redis_url = redis.clone();
    a.events_registry = registry.clone();
    a.consumer_name = Some(format!("test-{}", Uuid::new_v4().simple()));
    a.consumer_block_ms = 50;
    a.consumer_discover_ms = 50;
    a.students_url = students_url.clone();
    let analytics = analytics_svc::Application::build(&a)
        .await
        .expect("build analytics-svc");
    let analytics_url = format!("http://{}", analytics.local_addr());
    let (stop_analytics, stopped) = oneshot::channel::<()>();
    tokio::spawn(analytics.run_until(async {
        let _ = stopped.await;
    }));

    let mut n = notify_svc::config::Config::for_database(&db.notify_url);
    n.consumer_enabled = true;
    n.redis_url = redis.clone();
    n.events_registry = registry.clone();
    n.consumer_name = Some(format!("test-{}", Uuid::new_v4().simple()));
    n.consumer_block_ms = 50;
    n.consumer_discover_ms = 50;
    let notify = notify_svc::Application::build(&n)
        .await
        .expect("build notify-svc");
    let notify_url = format!("http://{}", notify.local_addr());
    let (stop_notify, stopped) = oneshot::channel::<()>();
    tokio::spawn(notify.run_until(async {
        let _ = stopped.await;
    }));

    let mut config = gateway::config::Config::for_tests(students_url, redis.clone());
    // The page's origin must be known before the gateway binds: its
    // WebSocket is refused unless that Origin is on the allow-list.
    let port = free_port();
    config.listen = ([127, 0, 0, 1], port).into();
    config.cors_allowed_origins = vec![format!("http://127.0.0.1:{port}")];
    config.analytics_url = analytics_url;
    config.notify_url = notify_url;
    config.console_dir = Some(repo().join("web"));
    // Two browsers share the machine with the suite: a slow Redis reply
    // must not fail the logins closed (503).
    config.redis_command_timeout_ms = 1000;
    tweak(&mut config);
    let gw = gateway_for(db, config, stop_students).await;
    let bus = platform::redis::client(
        &redis,
        &RedisSettings {
            command_timeout: Duration::from_secs(2),
            ..Default::default()
        },
    )
    .unwrap();
    fred::interfaces::ClientLike::init(&bus).await.unwrap();
    System {
        gw,
        bus,
        registry,
        _stops: vec![stop_analytics, stop_notify],
    }
}

/// The demo of this test: ids of the people and things the console shows.
struct School {
    admin: String,
    /// The teacher's token and her course (Ada, Ben and Cleo enrolled).
    tess: String,
    course: String,
    ada: String,
    ben: String,
    other: String,
    ada_version: i64,
}

async fn ok(r: reqwest::Response, status: StatusCode) -> Value {
    let got = r.status();
    let body: Value = r.json().await.unwrap_or_default();
    assert_eq!(got, status, "{body}");
    body
}

/// The last `n` weekdays before `today`, oldest first.
fn school_days(n: usize) -> Vec<chrono::NaiveDate> {
    let mut days = Vec::new();
    let mut d = Utc::now().date_naive();
    while days.len() < n {
        d = d.checked_sub_days(Days::new(1)).unwrap();
        if d.weekday().number_from_monday() <= 5 {
            days.push(d);
        }
    }
    days.reverse();
    days
}

impl System {
    async fn school(&self, slug: &str) -> School {
        let gw = &self.gw;
        let created = gw.create_school(slug).await;
        let id: Uuid = created["school"]["id"].as_str().unwrap().parse().unwrap();
        let _: i64 = fred::interfaces::SetsInterface::sadd(
            &self.bus,
            self.registry.as_str(),
            stream_key(id),
        )
        .await
        .unwrap();
        let admin = gw.login(slug, &format!("admin@{slug}.test")).await;
        let (tess, tess_id) = gw
            .named_teacher(slug, &admin, &format!("tess@{slug}.test"))
            .await;
        let course = gw.course(&admin, "MATH-7", &tess_id, 30).await;
        let course = course["id"].as_str().unwrap().to_owned();
        for weekday in 1..=5 {
            let r = gw
                .post(
                    &format!("/api/v1/courses/{course}/slots"),
                    &admin,
                    json!({"weekday": weekday, "start": "09:00", "end": "09:50", "room": "R1"}),
                )
                .await;
            ok(r, StatusCode::CREATED).await;
        }
        let mut ids = Vec::new();
        for (no, given) in [("A-1", "Ada"), ("A-2", "Ben"), ("A-3", "Cleo")] {
            let s = gw.create_student(&admin, no, given).await;
            let id = s["id"].as_str().unwrap().to_owned();
            let r = gw
                .post(
                    &format!("/api/v1/courses/{course}/enrolments"),
                    &admin,
                    json!({"student_id": id}),
                )
                .await;
            ok(r, StatusCode::CREATED).await;
            ids.push((id, s["version"].as_i64().unwrap()));
        }
        // Mary: guardian of Ada and Ben, not of Cleo.
        let r = gw
            .post(
                "/api/v1/guardians",
                &admin,
                json!({"given_name": "Mary", "family_name": "Ng", "relationship": "mother",
                       "phone": "+447911123456", "email": format!("mary@{slug}.test"),
                       "notifications": {"sms": false, "push": true},
                       "login": {"email": format!("mary@{slug}.test"), "password": PASSWORD}}),
            )
            .await;
        let mary = ok(r, StatusCode::CREATED).await;
        let mary = mary["id"].as_str().unwrap();
        for (child, _) in &ids[..2] {
            let r = gw
                .put(
                    &format!("/api/v1/guardians/{mary}/students/{child}"),
                    &admin,
                    json!({}),
                )
                .await;
            ok(r, StatusCode::CREATED).await;
        }
        // A week of attendance before today, for the dashboard's trend.
        for (n, day) in school_days(5).into_iter().enumerate() {
            let entries: Vec<Value> = ids
                .iter()
                .enumerate()
                .map(|(i, (id, _))| {
                    let status = if i == 2 && n % 2 == 0 {
                        "absent"
                    } else {
                        "present"
                    };
                    json!({"student_id": id, "status": status})
                })
                .collect();
            let r = gw
                .put(
                    &format!("/api/v1/courses/{course}/attendance/{day}"),
                    &tess,
                    json!({"entries": entries}),
                )
                .await;
            ok(r, StatusCode::OK).await;
        }
        // Fees for the dashboard's chart and the guardian's balance.
        let today = Utc::now().date_naive();
        let r = gw
            .post(
                "/api/v1/invoices",
                &admin,
                json!({"student_id": ids[0].0, "currency": "USD",
                       "lines": [{"description": "Tuition", "quantity": 1, "unit_amount": 120_000}],
                       "issued_on": today.checked_sub_days(Days::new(20)).unwrap().to_string(),
                       "due_on": today.checked_add_days(Days::new(10)).unwrap().to_string()}),
            )
            .await;
        let invoice = ok(r, StatusCode::CREATED).await;
        // An issued invoice is a notice to Mary. It is waited for here, so
        // that no notice of the setup reaches her open console in the
        // middle of a scenario: it would re-render the inbox under the
        // test's click, or still be unread after "Mark all as read".
        if invoice["status"] != "draft" {
            let mary = gw.login(slug, &format!("mary@{slug}.test")).await;
            platform::testing::eventually("the invoice notice in Mary's inbox", WAIT, || async {
                let page: Value = gw
                    .get("/api/v1/me/notifications", &mary)
                    .await
                    .json()
                    .await
                    .unwrap_or_default();
                page["items"]
                    .as_array()
                    .is_some_and(|n| n.iter().any(|n| n["kind"] == "invoice_issued"))
            })
            .await;
        }
        School {
            admin,
            tess,
            course,
            ada: ids[0].0.clone(),
            ben: ids[1].0.clone(),
            other: ids[2].0.clone(),
            ada_version: ids[0].1,
        }
    }
}

/// The browser windows of one test, on a chromedriver of its own: every
/// window opened here is screenshot if the scenario fails, and closed at the
/// end.
struct Browsers {
    windows: Mutex<Vec<(String, Client)>>,
    driver: Driver,
}

impl Browsers {
    async fn start() -> Self {
        Self {
            windows: Mutex::default(),
            driver: Driver::start().await,
        }
    }

    /// A new window (its own profile: its own sessionStorage).
    async fn open(&self, name: &str) -> Client {
        let c = self.driver.browser().await;
        self.windows
            .lock()
            .unwrap()
            .push((name.to_owned(), c.clone()));
        c
    }

    /// A new window signed in as `email` (password [`PASSWORD`]), once the
    /// role's first page shows `landmark`.
    async fn signed_in(
        &self,
        name: &str,
        base: &str,
        slug: &str,
        email: &str,
        landmark: &str,
    ) -> Client {
        let c = self.open(name).await;
        sign_in(&c, base, slug, email, PASSWORD).await;
        wait_css(&c, landmark).await;
        c
    }

    /// Runs `scenario`; on a panic, screenshots of every window to
    /// `target/browser-screenshots/<test>/`, then the panic.
    async fn run<F: std::future::Future<Output = ()>>(&self, test: &str, scenario: F) {
        let result = std::panic::AssertUnwindSafe(scenario).catch_unwind().await;
        if result.is_err() {
            self.shoot_all(test).await;
        }
        self.close().await;
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }

    async fn shoot_all(&self, test: &str) {
        let dir = repo().join("target/browser-screenshots").join(test);
        let _ = std::fs::create_dir_all(&dir);
        let windows = self.windows.lock().unwrap().clone();
        for (name, c) in windows {
            match c.screenshot().await {
                Ok(png) => {
                    let _ = std::fs::write(dir.join(format!("{name}.png")), png);
                }
                Err(e) => eprintln!("no screenshot of {name}: {e}"),
            }
        }
        eprintln!("browser screenshots in {}", dir.display());
    }

    async fn close(&self) {
        let windows = std::mem::take(&mut *self.windows.lock().unwrap());
        for (_, c) in windows {
            let _ = c.close().await;
        }
    }
}

async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(el) => el,
        Err(e) => panic!(
            "{css} did not appear: {e}; the page says: {}",
            page_text(c).await
        ),
    }
}

/// What the page shows (for failure messages).
async fn page_text(c: &Client) -> String {
    c.execute(
        "return location.pathname + ': ' + document.body.innerText",
        vec![],
    )
    .await
    .map(|v| v.as_str().unwrap_or_default().to_owned())
    .unwrap_or_default()
}

/// Waits until the element's text passes `ok`.
async fn wait_until(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    wait_until_for(c, css, ok, WAIT).await
}

/// Waits up to `limit` until the element's text passes `ok`.
async fn wait_until_for(
    c: &Client,
    css: &str,
    ok: impl Fn(&str) -> bool,
    limit: Duration,
) -> String {
    let deadline = Instant::now() + limit;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            last = el.text().await.unwrap_or_default();
            if ok(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{css} never passed; last: {last:?}; the page says: {}",
        page_text(c).await
    );
}

/// Waits until the element's text contains `want`.
async fn wait_text(c: &Client, css: &str, want: &str) -> String {
    wait_until(c, css, |t| t.contains(want)).await
}

async fn sign_in(c: &Client, base: &str, slug: &str, email: &str, password: &str) {
    c.goto(&format!("{base}/signin")).await.unwrap();
    wait_css(c, "input[name=school]")
        .await
        .send_keys(slug)
        .await
        .unwrap();
    let find = |css: &'static str| c.find(Locator::Css(css));
    find("input[name=email]")
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    find("input[name=password]")
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    find("button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn save_screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let dir = repo().join("target/browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), &png).unwrap();
    if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = repo().join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(name), &png).unwrap();
    }
}

#[tokio::test]
async fn the_console_serves_its_files_with_caching_and_a_strict_policy() {
    let gw = spawn_configured(|c| c.console_dir = Some(repo().join("web"))).await;
    let http = &gw.http;
    let index = http.get(gw.url("/admin/students")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    let h = index.headers().clone();
    assert_eq!(h["cache-control"], "no-cache");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = index.text().await.unwrap();
    let start = html.find("/assets/").expect("an asset reference");
    let app = &html[start..html[start..].find('"').unwrap() + start];
    assert!(app.matches('/').count() == 3, "fingerprinted: {app}");
    let r = http.get(gw.url(app)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // An old fingerprint is gone; the API keeps its problem+json 404.
    let r = http
        .get(gw.url("/assets/0000000000000000/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = http.get(gw.url("/api/v1/nope")).send().await.unwrap();
    problem(r, 404, "not_found").await;
    let r = http.post(gw.url("/admin")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn roles_sign_in_and_an_absence_reaches_the_open_guardian_console_live() {
    let sys = system().await;
    let school = sys.school("north").await;
    let base = sys.gw.base.clone();
    let browsers = Browsers::start().await;
    let gw = &sys.gw;
    browsers
        .run("roles_and_live_absence", async {
            // A wrong password: the problem+json detail is shown.
            let guardian = browsers.open("guardian").await;
            sign_in(
                &guardian,
                &base,
                "north",
                "mary@north.test",
                "wrong password!",
            )
            .await;
            wait_css(&guardian, ".problem").await;

            // Guardian: both children; another child's page by URL is not found.
            sign_in(&guardian, &base, "north", "mary@north.test", PASSWORD).await;
            wait_text(&guardian, "#children", "Ben").await;
            let text = wait_text(&guardian, "#children", "Ada").await;
            assert!(!text.contains("Cleo"), "{text}");
            guardian
                .goto(&format!("{base}/guardian/children/{}", school.other))
                .await
                .unwrap();
            wait_css(&guardian, "#not-found").await;
            // What the page asked: the API answers 404, not 403, for a child
            // that is not hers (as for an id that does not exist).
            let mary = gw.login("north", "mary@north.test").await;
            for path in [
                "",
                "/attendance?from=2026-11-01&to=2026-11-30",
                "/grades",
                "/balance",
            ] {
                let r = gw
                    .get(&format!("/api/v1/students/{}{path}", school.other), &mary)
                    .await;
                problem(r, 404, "not_found").await;
            }
            guardian
                .goto(&format!("{base}/guardian/children/{}", school.ben))
                .await
                .unwrap();
            wait_text(&guardian, "h1", "Ben").await;
            wait_css(&guardian, "#child-attendance").await;
            guardian.goto(&format!("{base}/guardian")).await.unwrap();
            wait_text(&guardian, "#live-state", "Live").await;

            // Teacher: today's page, the sheet, Ada marked absent by keyboard.
            let teacher = browsers
                .signed_in("teacher", &base, "north", "tess@north.test", "a.sheet-link")
                .await;
            click(&teacher, "a.sheet-link").await;
            wait_text(&teacher, "#sheet-summary", "3 present").await;
            let ada = format!("tr[data-student=\"{}\"] input:checked", school.ada);
            let radio = wait_css(&teacher, &ada).await;
            radio.click().await.unwrap();
            radio.send_keys("a").await.unwrap();
            wait_text(&teacher, "#sheet-summary", "2 present, 1 absent").await;
            click(&teacher, "#save-sheet").await;
            wait_text(&teacher, "#sheet-status", "Saved").await;
            save_screenshot(&teacher, "teacher-attendance.png").await;
            // Saving the same sheet again is a no-op for the guardian.
            click(&teacher, "#save-sheet").await;
            wait_text(&teacher, "#sheet-status", "Saved").await;

            // The notice is in her inbox (notify-svc made it)...
            platform::testing::eventually("the absence in Mary's inbox", WAIT, || async {
                let page: Value = gw
                    .get("/api/v1/me/notifications?unread=true", &mary)
                    .await
                    .json()
                    .await
                    .unwrap_or_default();
                page["items"].as_array().is_some_and(|n| {
                    n.iter().any(|n| {
                        n["title"]
                            .as_str()
                            .is_some_and(|t| t.contains("Absence: Ada"))
                    })
                })
            })
            .await;
            // ...and her open console shows the alert without a reload.
            wait_text(&guardian, "#alerts", "Absence: Ada").await;
            // The badge counts it (other notices, such as a fee reminder for
            // the invoice, may be there too).
            wait_until(&guardian, "#unread", |t| {
                t.parse::<u32>().is_ok_and(|n| n >= 1)
            })
            .await;
            click(&guardian, "a[href='/guardian/inbox']").await;
            wait_text(&guardian, "#inbox", "Ada").await;
            wait_css(&guardian, "#mark-read")
                .await
                .click()
                .await
                .unwrap();
            wait_text(&guardian, "h1", "0 unread").await;

            // Admin: the dashboard, timed from the sign-in click.
            let admin = browsers
                .signed_in("admin", &base, "north", "admin@north.test", "#tiles")
                .await;
            wait_css(&admin, "svg.chart").await;
            let ms = admin
                .execute("return document.body.dataset.dashboardMs || null", vec![])
                .await
                .unwrap();
            eprintln!("sign-in to rendered dashboard: {ms} ms");
            assert!(ms.as_str().is_some(), "the dashboard timed its render");
            save_screenshot(&admin, "admin-dashboard.png").await;

            // Sign out: back to the sign-in page, nothing kept.
            click(&admin, "#signout").await;
            wait_css(&admin, "input[name=school]").await;
            let kept = admin
                .execute("return sessionStorage.length", vec![])
                .await
                .unwrap();
            assert_eq!(kept, json!(0));
        })
        .await;
}

#[tokio::test]
async fn an_admin_imports_a_bad_row_and_meets_a_stale_edit() {
    let sys = system().await;
    let school = sys.school("south").await;
    let base = sys.gw.base.clone();
    let browsers = Browsers::start().await;
    let gw = &sys.gw;
    browsers
        .run("admin_import_and_conflict", async {
            let admin = browsers
                .signed_in("admin", &base, "south", "admin@south.test", "#tiles")
                .await;

            // Search as you type.
            admin.goto(&format!("{base}/admin/students")).await.unwrap();
            wait_text(&admin, "#students", "Cleo").await;
            wait_css(&admin, "#student-search")
                .await
                .send_keys("Ben")
                .await
                .unwrap();
            wait_until(&admin, "#students", |t| {
                t.contains("Ben") && !t.contains("Cleo")
            })
            .await;

            // CSV import with a bad row: the per-row report.
            let csv = std::env::temp_dir().join(format!("import-{}.csv", Uuid::new_v4()));
            std::fs::write(
                &csv,
                "admission_no,given_name,family_name,date_of_birth,grade_level\n\
             I-1,Ida,Imp,2014-02-03,4\n\
             I-2,Ivo,Imp,not-a-date,4\n",
            )
            .unwrap();
            admin.goto(&format!("{base}/admin/import")).await.unwrap();
            wait_css(&admin, "#import-file")
                .await
                .send_keys(csv.to_str().unwrap())
                .await
                .unwrap();
            click(&admin, "#import-submit").await;
            let report = wait_text(&admin, "#import-report", "date_of_birth").await;
            assert!(report.contains('3') || report.contains('2'), "{report}");
            wait_text(&admin, "#import-result", "1 imported").await;
            let _ = std::fs::remove_file(&csv);

            // A stale edit: someone else saves first; the newer version shows.
            admin
                .goto(&format!("{base}/admin/students/{}", school.ada))
                .await
                .unwrap();
            let family = wait_css(&admin, "#student-family_name").await;
            let r = gw
                .patch(
                    &format!("/api/v1/students/{}", school.ada),
                    &school.admin,
                    json!({"version": school.ada_version, "given_name": "Adaeze"}),
                )
                .await;
            ok(r, StatusCode::OK).await;
            family.clear().await.unwrap();
            family.send_keys("Changed").await.unwrap();
            click(&admin, "#save-student").await;
            wait_css(&admin, "#conflict").await;
            let given = value_of(&admin, "#student-given_name").await;
            assert_eq!(given.as_deref(), Some("Adaeze"));

            // A field error next to its field.
            let grade = admin
                .find(Locator::Id("student-grade_level"))
                .await
                .unwrap();
            grade.clear().await.unwrap();
            grade.send_keys("40").await.unwrap();
            click(&admin, "#save-student").await;
            wait_until(&admin, "#student-grade_level-err", |t| !t.is_empty()).await;
            let invalid = grade.attr("aria-invalid").await.unwrap();
            assert_eq!(invalid.as_deref(), Some("true"));
        })
        .await;
}

/// A TCP relay between the browser and the gateway that the test can cut:
/// `cut` drops every open connection (the WebSocket with them) and refuses
/// new ones until `restore`, noting when each refused one asked for the
/// WebSocket. The browser sees a real dropped socket and failed
/// reconnects, not a simulated offline.
struct Relay {
    base: String,
    up: Arc<std::sync::atomic::AtomicBool>,
    open: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    cut_at: Arc<Mutex<Option<Instant>>>,
    refused: Arc<Mutex<Vec<Instant>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Bound before the gateway starts: the page's origin (the relay's)
    /// must be on the gateway's WebSocket allow-list.
    fn bind() -> (std::net::TcpListener, String) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        (l, base)
    }

    fn start(listener: std::net::TcpListener, gateway: &str) -> Self {
        use std::sync::atomic::Ordering;
        let target = gateway.trim_start_matches("http://").to_owned();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let open: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let cut_at: Arc<Mutex<Option<Instant>>> = Arc::default();
        let refused: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let (u, o, r) = (up.clone(), open.clone(), refused.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    // Only the console's WebSocket attempts count: the
                    // browser may also open spare connections that send
                    // nothing.
                    let r = r.clone();
                    tokio::spawn(async move {
                        use tokio::io::AsyncReadExt;
                        let mut buf = [0u8; 64];
                        let read = inbound.read(&mut buf);
                        if let Ok(Ok(n)) = tokio::time::timeout(WAIT, read).await {
                            if buf[..n].starts_with(b"GET /api/v1/ws ") {
                                r.lock().unwrap().push(Instant::now());
                            }
                        }
                    });
                    continue;
                }
                let target = target.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                o.lock().unwrap().push(relay.abort_handle());
            }
        });
        Self {
            base,
            up,
            open,
            cut_at,
            refused,
            accept,
        }
    }

    fn cut(&self) {
        *self.cut_at.lock().unwrap() = Some(Instant::now());
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for c in self.open.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// When a console asked for the WebSocket while cut, counted from the
    /// cut.
    fn attempts(&self) -> Vec<Duration> {
        let cut = self.cut_at.lock().unwrap().expect("cut");
        let refused = self.refused.lock().unwrap();
        refused.iter().map(|t| *t - cut).collect()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn select_value(c: &Client, css: &str, value: &str) {
    wait_css(c, css)
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{css} has no option {value}: {e}"));
}

async fn type_into(c: &Client, css: &str, text: &str) {
    let el = wait_css(c, css).await;
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    wait_css(c, css).await.click().await.unwrap();
}

/// A control's current value.
async fn value_of(c: &Client, css: &str) -> Option<String> {
    wait_css(c, css).await.prop("value").await.unwrap()
}

/// The field's error slot shows a message and its control is marked invalid.
async fn field_error(c: &Client, id: &str) -> String {
    let text = wait_until(c, &format!("#{id}-err"), |t| !t.is_empty()).await;
    let invalid = c
        .find(Locator::Id(id))
        .await
        .unwrap()
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(invalid.as_deref(), Some("true"), "{id}: {text}");
    text
}

#[tokio::test]
async fn an_admin_manages_guardians_links_invoices_and_payments() {
    let sys = system().await;
    let school = sys.school("east").await;
    let base = sys.gw.base.clone();
    let browsers = Browsers::start().await;
    let gw = &sys.gw;
    browsers
        .run("admin_guardians_and_fees", async {
            let admin = browsers
                .signed_in("admin", &base, "east", "admin@east.test", "#tiles")
                .await;

            // The list, filtered as you type; a student's guardians.
            click(&admin, "a[href='/admin/guardians']").await;
            wait_text(&admin, "#guardians", "Ng, Mary").await;
            type_into(&admin, "#guardian-filter", "nobody").await;
            wait_text(&admin, "#guardians-info", "0 of 1").await;
            type_into(&admin, "#guardian-student", "Cleo").await;
            click(&admin, "#student-matches button").await;
            wait_text(&admin, "#guardian-scope", "Guardians of Cleo").await;
            wait_text(&admin, "#guardians-info", "No guardians").await;

            // Create: a bad phone and a bad language, each shown beside its
            // field; nothing written.
            click(&admin, "#new-guardian").await;
            type_into(&admin, "#guardian-given_name", "Sam").await;
            type_into(&admin, "#guardian-family_name", "Okafor").await;
            select_value(&admin, "#guardian-relationship", "father").await;
            type_into(&admin, "#guardian-phone", "0791 112").await;
            type_into(&admin, "#guardian-preferred_language", "FR").await;
            click(&admin, "#save-guardian").await;
            field_error(&admin, "guardian-phone").await;
            field_error(&admin, "guardian-preferred_language").await;
            let listed = ok(
                gw.get("/api/v1/guardians", &school.admin).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
            type_into(&admin, "#guardian-phone", "+447700900123").await;
            type_into(&admin, "#guardian-preferred_language", "fr").await;
            click(&admin, "#save-guardian").await;
            wait_text(&admin, "h1", "Sam Okafor").await;
            wait_css(&admin, "#no-children").await;
            let sam = admin.current_url().await.unwrap();
            let sam = sam.path().rsplit('/').next().unwrap().to_owned();
            let saved = ok(
                gw.get(&format!("/api/v1/guardians/{sam}"), &school.admin)
                    .await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(
                (&saved["phone"], &saved["preferred_language"]),
                (&json!("+447700900123"), &json!("fr"))
            );

            // Edit: a stale version shows the newer one.
            let r = gw
                .patch(
                    &format!("/api/v1/guardians/{sam}"),
                    &school.admin,
                    json!({"version": 1, "given_name": "Samuel"}),
                )
                .await;
            ok(r, StatusCode::OK).await;
            type_into(&admin, "#guardian-family_name", "Okafor-Ray").await;
            click(&admin, "#save-guardian").await;
            wait_css(&admin, "#guardian-conflict").await;
            let given = value_of(&admin, "#guardian-given_name").await;
            assert_eq!(given.as_deref(), Some("Samuel"));

            // Link: an unknown admission number is shown beside the field;
            // Cleo links, then unlinks.
            type_into(&admin, "#link-admission", "NOPE-9").await;
            click(&admin, "#link-student").await;
            field_error(&admin, "link-admission").await;
            type_into(&admin, "#link-admission", "A-3").await;
            click(&admin, "#link-primary").await;
            click(&admin, "#link-student").await;
            wait_text(&admin, "#guardian-children", "Cleo").await;
            let g = ok(
                gw.get(&format!("/api/v1/guardians/{sam}"), &school.admin)
                    .await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(g["students"][0]["student_id"], school.other.as_str());
            assert_eq!(g["students"][0]["is_primary"], true);
            // Linking her again is a conflict, shown as the problem's text.
            type_into(&admin, "#link-admission", "A-3").await;
            click(&admin, "#link-student").await;
            wait_text(&admin, "#link-result", "already").await;
            click(
                &admin,
                &format!("tr[data-student=\"{}\"] button", school.other),
            )
            .await;
            wait_css(&admin, "#no-children").await;
            let g = ok(
                gw.get(&format!("/api/v1/guardians/{sam}"), &school.admin)
                    .await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(g["students"], json!([]));

            // Ada's invoices: the seeded tuition, her balance.
            admin
                .goto(&format!("{base}/admin/students/{}", school.ada))
                .await
                .unwrap();
            click(&admin, "#student-invoices-link").await;
            wait_text(&admin, "#student-invoices", "Tuition").await;
            wait_text(&admin, "#student-balance", "1,200.00").await;

            // A new invoice: a malformed amount and an empty description are
            // shown beside their fields; then it is created.
            type_into(&admin, "#line-0-unit_amount", "12,5").await;
            click(&admin, "#create-invoice").await;
            field_error(&admin, "line-0-unit_amount").await;
            type_into(&admin, "#line-0-unit_amount", "50").await;
            click(&admin, "#create-invoice").await;
            field_error(&admin, "line-0-description").await;
            type_into(&admin, "#line-0-description", "Books").await;
            click(&admin, "#create-invoice").await;
            wait_text(&admin, "#student-invoices", "Books").await;
            wait_text(&admin, "#student-balance", "1,250.00").await;

            // A payment above what is due is refused with the server's reason;
            // a right one is recorded once.
            let invoices = ok(
                gw.get(
                    &format!("/api/v1/invoices?student_id={}", school.ada),
                    &school.admin,
                )
                .await,
                StatusCode::OK,
            )
            .await;
            let tuition = invoices["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["lines"][0]["description"] == "Tuition")
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
            select_value(&admin, "#payment-invoice", &tuition).await;
            type_into(&admin, "#payment-amount", "5000").await;
            click(&admin, "#record-payment").await;
            wait_css(&admin, "#payment-form .problem").await;
            type_into(&admin, "#payment-amount", "200").await;
            select_value(&admin, "#payment-method", "card").await;
            click(&admin, "#record-payment").await;
            wait_text(&admin, "#student-balance", "1,050.00").await;
            let balance = ok(
                gw.get(
                    &format!("/api/v1/students/{}/balance", school.ada),
                    &school.admin,
                )
                .await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(balance["balances"][0]["total_paid"], 20_000, "{balance}");
        })
        .await;
}

#[tokio::test]
async fn the_console_waits_out_a_429_and_catches_up_after_a_dropped_socket() {
    let (listener, page) = Relay::bind();
    // Imports (class `expensive`): one per 8 s per user, so the console's
    // import right after the test's is refused with a Retry-After.
    let sys = system_with(|c| {
        c.cors_allowed_origins.push(page.clone());
        c.rate_limit_expensive = "1/8s".parse().unwrap();
    })
    .await;
    let school = sys.school("west").await;
    let relay = Relay::start(listener, &sys.gw.base);
    let base = relay.base.clone();
    let browsers = Browsers::start().await;
    let relay = &relay;
    let gw = &sys.gw;
    browsers
        .run("robustness", async {
            // 429: the test spends the admin's import budget, then the console
            // imports: refused, it says it waits, retries after Retry-After
            // and shows the report.
            let admin = browsers
                .signed_in("admin", &base, "west", "admin@west.test", "#tiles")
                .await;
            let csv = std::env::temp_dir().join(format!("import-{}.csv", Uuid::new_v4()));
            std::fs::write(
                &csv,
                "admission_no,given_name,family_name,date_of_birth,grade_level\n\
             R-1,Rae,Ray,2014-02-03,4\n",
            )
            .unwrap();
            admin.goto(&format!("{base}/admin/import")).await.unwrap();
            wait_css(&admin, "#import-file")
                .await
                .send_keys(csv.to_str().unwrap())
                .await
                .unwrap();
            let spend = || {
                gw.http
                    .post(gw.url("/api/v1/students/import?mode=partial"))
                    .bearer_auth(&school.admin)
                    .header("content-type", "text/csv")
                    .body("admission_no,given_name,family_name,date_of_birth,grade_level\n")
                    .send()
            };
            let mut refused = false;
            for _ in 0..3 {
                if spend().await.unwrap().status() == StatusCode::TOO_MANY_REQUESTS {
                    refused = true;
                    break;
                }
            }
            assert!(refused, "the import budget is spent");
            click(&admin, "#import-submit").await;
            wait_text(&admin, "#flash", "retrying in").await;
            wait_text(&admin, "#import-result", "1 imported").await;
            let _ = std::fs::remove_file(&csv);
            let found = ok(
                gw.get("/api/v1/students?q=R-1", &school.admin).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");

            // A dropped WebSocket: the console says so, retries with growing
            // pauses, and once back shows the absence marked meanwhile.
            // The admin's console (and its socket) is closed first: the relay
            // then sees the guardian's reconnects alone.
            admin.close().await.unwrap();
            let guardian = browsers.open("guardian").await;
            sign_in(&guardian, &base, "west", "mary@west.test", PASSWORD).await;
            wait_text(&guardian, "#children", "Ben").await;
            wait_text(&guardian, "#live-state", "Live").await;
            relay.cut();
            wait_text(&guardian, "#live-state", "Offline").await;
            let day = school_days(1)[0];
            let r = gw
                .put(
                    &format!("/api/v1/courses/{}/attendance/{day}", school.course),
                    &school.tess,
                    json!({"entries": [{"student_id": school.ben, "status": "absent"}]}),
                )
                .await;
            ok(r, StatusCode::OK).await;
            let mary = gw.login("west", "mary@west.test").await;
            platform::testing::eventually("the absence in Mary's inbox", WAIT, || async {
                let page: Value = gw
                    .get("/api/v1/me/notifications?unread=true", &mary)
                    .await
                    .json()
                    .await
                    .unwrap_or_default();
                page["items"].as_array().is_some_and(|n| {
                    n.iter()
                        .any(|n| n["title"].as_str().is_some_and(|t| t.contains("Ben")))
                })
            })
            .await;
            // Four refused reconnects before the way is open again.
            platform::testing::eventually("four reconnect attempts", WAIT, || async {
                relay.attempts().len() >= 4
            })
            .await;
            relay.restore();
            wait_until_for(&guardian, "#live-state", |t| t.contains("Live"), WAIT * 2).await;
            wait_text(&guardian, "#alerts", "Ben").await;
            wait_until(&guardian, "#unread", |t| {
                t.parse::<u32>().is_ok_and(|n| n >= 1)
            })
            .await;
            // Backoff: the pause doubles from 1 s, each one × 0.5-1 (jitter),
            // so the fourth attempt comes at least 0.5 + 1 + 2 + 4 = 7.5 s after
            // the cut (a fixed 1 s retry would have made it by 4 s).
            let at = relay.attempts();
            eprintln!("reconnect attempts after the cut: {at:?}");
            assert!(
                at[3] >= Duration::from_secs(7),
                "attempts after the cut: {at:?}"
            );
        })
        .await;
}

/// The console's access token (sessionStorage), or null.
async fn console_token(c: &Client) -> Value {
    c.execute(
        "const s = JSON.parse(sessionStorage.getItem('schoolhouse.session') || 'null'); \
         return s && s.token;",
        vec![],
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_console_renews_a_short_token_ends_its_session_and_asks_for_a_new_password() {
    // Access tokens of 30 s: the console renews a minute before expiry,
    // so here 5 s after signing in.
    let sys = system_with(|c| c.jwt_ttl_secs = 30).await;
    let school = sys.school("east").await;
    let gw = &sys.gw;
    let base = gw.base.clone();
    let browsers = Browsers::start().await;
    browsers
        .run("sessions", async {
            let admin = browsers
                .signed_in("admin", &base, "east", "admin@east.test", "#tiles")
                .await;
            let first = console_token(&admin).await;
            assert!(first.is_string());
            let renewed = platform::testing::eventually(
                "the console to renew its token",
                Duration::from_secs(30),
                || async {
                    let t = console_token(&admin).await;
                    (t.is_string() && t != first).then_some(t)
                },
            )
            .await;
            // The renewed token serves the page after a reload.
            admin.refresh().await.unwrap();
            wait_css(&admin, "#tiles").await;
            assert_eq!(
                gw.get("/api/v1/auth/me", renewed.as_str().unwrap())
                    .await
                    .status(),
                StatusCode::OK
            );
            // Signing out ends the session on the server, not only in the tab.
            click(&admin, "#signout").await;
            wait_css(&admin, "input[name=school]").await;
            platform::testing::eventually("the session to end", Duration::from_secs(2), || async {
                gw.get("/api/v1/auth/me", renewed.as_str().unwrap())
                    .await
                    .status()
                    == StatusCode::UNAUTHORIZED
            })
            .await;

            // An admin's reset: the teacher must choose a password first.
            let me: Value = gw
                .get("/api/v1/auth/me", &school.tess)
                .await
                .json()
                .await
                .unwrap();
            let r = gw
                .post(
                    &format!(
                        "/api/v1/users/{}/password-reset",
                        me["id"].as_str().unwrap()
                    ),
                    &school.admin,
                    json!({"temporary_password": "temporary-pass-1"}),
                )
                .await;
            ok(r, StatusCode::OK).await;
            let teacher = browsers.open("teacher").await;
            sign_in(
                &teacher,
                &base,
                "east",
                "tess@east.test",
                "temporary-pass-1",
            )
            .await;
            type_into(&teacher, "input[name=new_password]", "short").await;
            click(&teacher, "form button[type=submit]").await;
            let err =
                wait_until(&teacher, "[data-error-for=new_password]", |t| !t.is_empty()).await;
            assert!(err.contains("10"), "{err}");
            let field = wait_css(&teacher, "input[name=new_password]").await;
            field.clear().await.unwrap();
            field.send_keys("tess's own passphrase").await.unwrap();
            click(&teacher, "form button[type=submit]").await;
            wait_css(&teacher, "a.sheet-link").await;
            let r = gw
                .http
                .post(gw.url("/api/v1/auth/login"))
                .json(&json!({"school": "east", "email": "tess@east.test",
                    "password": "tess's own passphrase"}))
                .send()
                .await
                .unwrap();
            let body = ok(r, StatusCode::OK).await;
            assert_eq!(body["must_change_password"], false);
        })
        .await;
}
