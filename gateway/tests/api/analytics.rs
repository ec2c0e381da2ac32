//! Dashboards and reports end to end over real HTTP, every part real: the
//! gateway (response cache on) in front of students-svc, whose relay
//! publishes its events to Redis, and analytics-svc, which consumes them,
//! keeps its read models, bumps the school's dashboard generation and
//! answers the gateway's calls.
//!
//! Dates are relative to today (UTC, the schools' default time zone).

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use platform::{
    events::stream_key,
    redis::RedisSettings,
    testing::{eventually, redis::redis_url},
};
use reqwest::{header, Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(30);

/// The system of one test, with a stream registry of its own so its
/// analytics-svc consumes only its schools.
struct System {
    gw: TestGateway,
    bus: fred::clients::Client,
    registry: String,
    _stop_analytics: oneshot::Sender<()>,
}

async fn system() -> System {
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
    let app = analytics_svc::Application::build(&a)
        .await
        .expect("build analytics-svc");
    let analytics = format!("http://{}", app.local_addr());
    let (stop_analytics, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let mut config = gateway::config::Config::for_tests(students_url, redis.clone());
    config.analytics_url = analytics;
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
        _stop_analytics: stop_analytics,
    }
}

impl System {
    /// A school whose events analytics-svc consumes (from the stream's
    /// start); its admin's token and id.
    async fn school(&self, slug: &str) -> (String, Uuid) {
        let created = self.gw.create_school(slug).await;
        let id: Uuid = created["school"]["id"].as_str().unwrap().parse().unwrap();
        let _: i64 = fred::interfaces::SetsInterface::sadd(
            &self.bus,
            self.registry.as_str(),
            stream_key(id),
        )
        .await
        .unwrap();
        (self.gw.login(slug, &format!("admin@{slug}.test")).await, id)
    }

    /// A student with a portal login: (token, id).
    async fn portal_student(
        &self,
        slug: &str,
        admin: &str,
        no: &str,
        given: &str,
    ) -> (String, String) {
        let email = format!("{}@{slug}.test", given.to_lowercase());
        let mut body = new_student(no, given);
        body["login"] = json!({"email": email, "password": PASSWORD});
        let r = self.gw.post("/api/v1/students", admin, body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let s: Value = r.json().await.unwrap();
        (self.gw.login(slug, &email).await, id_of(&s))
    }

    /// A guardian with a portal login, linked to `children`: its token.
    async fn portal_guardian(
        &self,
        slug: &str,
        admin: &str,
        email: &str,
        children: &[&str],
    ) -> String {
        let r = self
            .gw
            .post(
                "/api/v1/guardians",
                admin,
                json!({"given_name": "Mary", "family_name": "Ng", "relationship": "mother",
                       "email": email, "login": {"email": email, "password": PASSWORD}}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let g: Value = r.json().await.unwrap();
        for child in children {
            let r = self
                .gw
                .put(
                    &format!("/api/v1/guardians/{}/students/{child}", id_of(&g)),
                    admin,
                    json!({}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::CREATED);
        }
        self.gw.login(slug, email).await
    }

    async fn enrol(&self, admin: &str, course: &str, student: &str) {
        let r = self
            .gw
            .post(
                &format!("/api/v1/courses/{course}/enrolments"),
                admin,
                json!({"student_id": student}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    async fn mark(
        &self,
        teacher: &str,
        course: &str,
        date: NaiveDate,
        student: &str,
        status: &str,
    ) {
        let r = self
            .gw
            .put(
                &format!("/api/v1/courses/{course}/attendance/{date}"),
                teacher,
                json!({"entries": [{"student_id": student, "status": status}]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    /// A 200 read: its body and X-Cache.
    async fn read(&self, path: &str, token: &str) -> (Value, String) {
        let r = self.gw.get(path, token).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let cache = x_cache(&r);
        (r.json().await.unwrap(), cache)
    }

    /// Reads `path` until `holds` says its answer does; that answer and
    /// its X-Cache.
    async fn until(
        &self,
        path: &str,
        token: &str,
        what: &str,
        holds: impl Fn(&Value) -> bool,
    ) -> (Value, String) {
        eventually(what, WAIT, || async {
            let (body, cache) = self.read(path, token).await;
            holds(&body).then_some((body, cache))
        })
        .await
    }

    /// Reads `path` until a read is served from the cache (nothing changes
    /// the school's read models any more); that answer.
    async fn settled(&self, path: &str, token: &str) -> Value {
        eventually(&format!("a cache hit on {path}"), WAIT, || async {
            let (body, cache) = self.read(path, token).await;
            (cache == "HIT").then_some(body)
        })
        .await
    }
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn x_cache(r: &Response) -> String {
    r.headers()
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn students_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["student_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_mark_shows_on_the_dashboard_and_the_summary_on_the_next_read_with_the_cache_on() {
    let s = system().await;
    let (admin, _) = s.school("north").await;
    let (tess, tess_id) = s.gw.named_teacher("north", &admin, "tess@north.test").await;
    let course = id_of(&s.gw.course(&admin, "MATH-1", &tess_id, 30).await);
    let ada = id_of(&s.gw.create_student(&admin, "A-1", "Ada").await);
    s.enrol(&admin, &course, &ada).await;
    let dashboard = "/api/v1/dashboards/school";
    let summary = format!("/api/v1/students/{ada}/summary");

    // Everything so far applied, then answers are cached.
    s.until(dashboard, &admin, "Ada on the dashboard", |d| {
        d["active_students"] == 1 && d["courses"] == 1
    })
    .await;
    let before = s.settled(dashboard, &admin).await;
    assert_eq!(before["today"], today().to_string());
    assert_eq!(before["time_zone"], "UTC");
    assert_eq!(before["today_attendance"]["absent"], 0);
    s.until(&summary, &admin, "Ada's summary", |b| {
        b["given_name"] == "Ada"
    })
    .await;
    let before_summary = s.settled(&summary, &admin).await;
    assert_eq!(before_summary["year_attendance"]["absent"], 0);

    // A mark over HTTP: the next reads that show it are misses (the
    // generation moved), the ones after them hits with the same answer.
    s.mark(&tess, &course, today(), &ada, "absent").await;
    let (after, cache) = s
        .until(dashboard, &admin, "the absence on the dashboard", |d| {
            d["today_attendance"]["absent"] == 1
        })
        .await;
    assert_eq!(cache, "MISS");
    assert_eq!(after["today_attendance"]["rate"], 0.0);
    assert_eq!(after["sessions_marked_today"], 1);
    // (A mark may be applied in more than one transaction, each a bump.)
    let again = s.settled(dashboard, &admin).await;
    assert_eq!(again["today_attendance"], after["today_attendance"]);

    let (sum, cache) = s
        .until(&summary, &admin, "the absence in Ada's summary", |b| {
            b["year_attendance"]["absent"] == 1
        })
        .await;
    assert_eq!(cache, "MISS");
    assert_eq!(sum["recent_attendance"]["absent"], 1);
    assert_eq!(sum["consecutive_absences"], 1);
    let etag = eventually("a cache hit on the summary", WAIT, || async {
        let r = s.gw.get(&summary, &admin).await;
        let etag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
        let hit = x_cache(&r) == "HIT";
        let body: Value = r.json().await.unwrap();
        (hit && body["year_attendance"] == sum["year_attendance"]).then_some(etag)
    })
    .await;
    // Revalidation: 304 while current.
    let r =
        s.gw.http
            .get(s.gw.url(&summary))
            .bearer_auth(&admin)
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);

    // Present on the re-mark: the figure follows, never stale for long.
    s.mark(&tess, &course, today(), &ada, "present").await;
    let (d, cache) = s
        .until(dashboard, &admin, "the re-mark on the dashboard", |d| {
            d["today_attendance"]["present"] == 1
        })
        .await;
    assert_eq!(cache, "MISS");
    assert_eq!(d["today_attendance"]["absent"], 0);
    assert_eq!(d["today_attendance"]["rate"], 100.0);
}

#[tokio::test]
async fn dashboards_are_role_and_tenant_scoped_and_never_leak_through_the_cache() {
    let s = system().await;
    let (admin, _) = s.school("north").await;
    let (south_admin, _) = s.school("south").await;
    let (tess, tess_id) = s.gw.named_teacher("north", &admin, "tess@north.test").await;
    let (theo, theo_id) = s.gw.named_teacher("north", &admin, "theo@north.test").await;
    let math = id_of(&s.gw.course(&admin, "MATH-1", &tess_id, 30).await);
    let art = id_of(&s.gw.course(&admin, "ART-1", &theo_id, 30).await);
    let (ada_token, ada) = s.portal_student("north", &admin, "A-1", "Ada").await;
    let (ben_token, ben) = s.portal_student("north", &admin, "A-2", "Ben").await;
    s.enrol(&admin, &math, &ada).await;
    s.enrol(&admin, &art, &ben).await;
    let mary = s
        .portal_guardian("north", &admin, "mary@north.test", &[&ada])
        .await;
    let lee = s
        .portal_guardian("north", &admin, "lee@north.test", &[&ben])
        .await;
    // Ada absent today: on the early-warning list (chronic absence).
    s.mark(&tess, &math, today(), &ada, "absent").await;
    let south_student = id_of(&s.gw.create_student(&south_admin, "S-1", "Sol").await);

    let ada_summary = format!("/api/v1/students/{ada}/summary");
    let ben_summary = format!("/api/v1/students/{ben}/summary");
    let at_risk = "/api/v1/reports/at-risk";
    // Once applied, the admin's answers are cached: later readers of other
    // roles must not get them.
    s.until(&ada_summary, &admin, "Ada's absence applied", |b| {
        b["year_attendance"]["absent"] == 1
    })
    .await;
    s.until(&ben_summary, &admin, "Ben applied", |b| {
        b["given_name"] == "Ben"
    })
    .await;
    let admin_risk = s
        .until(at_risk, &admin, "Ada at risk", |p| {
            students_of(p).contains(&ada)
        })
        .await
        .0;
    let ada_row = &admin_risk["items"][0];
    assert!(ada_row["reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("chronic_absence")));
    s.settled(&ada_summary, &admin).await;
    s.settled(at_risk, &admin).await;
    s.until(
        &format!("{at_risk}?reason=low_grade"),
        &admin,
        "no low grades",
        |p| students_of(p).is_empty(),
    )
    .await;

    // Teachers: their own dashboard, per user.
    let (t, _) = s
        .until(
            "/api/v1/dashboards/teacher",
            &tess,
            "Tess's dashboard",
            |d| d["courses"].as_array().unwrap().len() == 1,
        )
        .await;
    assert_eq!(t["courses"][0]["course_id"], math.as_str());
    let (t, _) = s
        .until(
            "/api/v1/dashboards/teacher",
            &theo,
            "Theo's dashboard",
            |d| d["courses"].as_array().unwrap().len() == 1,
        )
        .await;
    assert_eq!(t["courses"][0]["course_id"], art.as_str(), "not Tess's");
    problem(
        s.gw.get("/api/v1/dashboards/teacher", &admin).await,
        403,
        "permission_denied",
    )
    .await;
    for token in [&tess, &ada_token, &mary] {
        problem(
            s.gw.get("/api/v1/dashboards/school", token).await,
            403,
            "permission_denied",
        )
        .await;
    }

    // Summaries: the student's teacher, the student, a linked guardian.
    for token in [&tess, &ada_token, &mary] {
        let (b, cache) = s.read(&ada_summary, token).await;
        assert_eq!(b["student_id"], ada.as_str());
        assert_eq!(cache, "MISS", "not the admin's entry");
    }
    // Not their student: a teacher of other courses is refused (403; staff
    // see the school's students anyway); to another student and another
    // child's guardian the student is not found (404).
    problem(
        s.gw.get(&ada_summary, &theo).await,
        403,
        "permission_denied",
    )
    .await;
    for token in [&ben_token, &lee] {
        problem(s.gw.get(&ada_summary, token).await, 404, "not_found").await;
    }
    // Another school's student: not found, for its admin and its teacher.
    let elsewhere = format!("/api/v1/students/{south_student}/summary");
    problem(s.gw.get(&elsewhere, &admin).await, 404, "not_found").await;
    problem(s.gw.get(&ada_summary, &south_admin).await, 404, "not_found").await;
    problem(
        s.gw.get("/api/v1/students/nope/summary", &admin).await,
        400,
        "invalid_argument",
    )
    .await;

    // The early-warning list: a teacher sees only their courses' students;
    // students and guardians never.
    let (theirs, _) = s.read(at_risk, &tess).await;
    assert_eq!(students_of(&theirs), std::slice::from_ref(&ada));
    let (theirs, cache) = s.read(at_risk, &theo).await;
    assert!(students_of(&theirs).is_empty(), "{theirs}");
    assert_eq!(cache, "MISS", "not Tess's entry");
    for token in [&ada_token, &mary] {
        problem(s.gw.get(at_risk, token).await, 403, "permission_denied").await;
    }
    let body = problem(
        s.gw.get(
            &format!("{at_risk}?reason=late&grade_level=13&course_id=x&limit=0"),
            &admin,
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(
        error_fields(&body),
        ["course_id", "grade_level", "limit", "reason"]
    );
    let (by_course, _) = s.read(&format!("{at_risk}?course_id={art}"), &admin).await;
    assert!(students_of(&by_course).is_empty());

    // Another school: its own figures, its own entries.
    let (south, _) = s
        .until(
            "/api/v1/dashboards/school",
            &south_admin,
            "Sol applied",
            |d| d["active_students"] == 1,
        )
        .await;
    assert_eq!(south["courses"], 0);
    let (south_risk, _) = s.read(at_risk, &south_admin).await;
    assert!(students_of(&south_risk).is_empty());
    let (north, _) = s.read("/api/v1/dashboards/school", &admin).await;
    assert_eq!(north["active_students"], 2);

    // A settings change reaches the dashboard through its event: the next
    // read after analytics-svc applied it misses and shows it.
    let r =
        s.gw.patch(
            "/api/v1/school",
            &admin,
            json!({"version": 1, "time_zone": "Pacific/Auckland"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (d, cache) = s
        .until(
            "/api/v1/dashboards/school",
            &admin,
            "the new time zone",
            |d| d["time_zone"] == "Pacific/Auckland",
        )
        .await;
    assert_eq!(cache, "MISS");
    let auckland = Utc::now()
        .with_timezone(&chrono_tz::Pacific::Auckland)
        .date_naive();
    assert_eq!(d["today"], auckland.to_string());
}

/// A report asked for as CSV: its 200 answer, checked to be streamed CSV.
/// The school dashboard's size does not grow with its courses: it carries
/// the 10 lowest course averages, lowest first, and how many courses are
/// graded; every course's average is the paged course-grades report,
/// which only admins read.
#[tokio::test]
async fn the_dashboard_keeps_the_lowest_course_grades_and_the_report_pages_them_all() {
    let s = system().await;
    let (admin, _) = s.school("north").await;
    let (south_admin, _) = s.school("south").await;
    let (tess, tess_id) = s.gw.named_teacher("north", &admin, "tess@north.test").await;
    let ada = id_of(&s.gw.create_student(&admin, "A-1", "Ada").await);
    // C-00 .. C-11, course i graded 44 - 2i out of 50: C-11 is the lowest.
    for i in 0..12u32 {
        let course = id_of(
            &s.gw
                .course(&admin, &format!("C-{i:02}"), &tess_id, 30)
                .await,
        );
        s.enrol(&admin, &course, &ada).await;
        let score = 44.0 - 2.0 * f64::from(i);
        s.gw.published_assessment(&tess, &course, &[(&ada, score)])
            .await;
    }

    let dashboard = "/api/v1/dashboards/school";
    let (d, _) = s
        .until(dashboard, &admin, "12 graded courses", |d| {
            d["graded_courses"] == 12
        })
        .await;
    let lowest: Vec<(&str, f64)> = d["course_grades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["code"].as_str().unwrap(), c["average"].as_f64().unwrap()))
        .collect();
    let expected: Vec<(String, f64)> = (2..12u32)
        .rev()
        .map(|i| (format!("C-{i:02}"), f64::from(44 - 2 * i) * 2.0))
        .collect();
    assert_eq!(
        lowest,
        expected
            .iter()
            .map(|(c, a)| (c.as_str(), *a))
            .collect::<Vec<_>>()
    );

    // The report: every course by code, 5 a page.
    let report = "/api/v1/reports/course-grades";
    let mut codes = Vec::new();
    let mut path = format!("{report}?limit=5");
    let mut pages = 0;
    loop {
        let (page, _) = s.read(&path, &admin).await;
        pages += 1;
        for c in page["items"].as_array().unwrap() {
            assert_eq!(c["grades"], 1, "{c}");
            let code = c["code"].as_str().unwrap().to_owned();
            let i: u32 = code[2..].parse().unwrap();
            assert_eq!(c["average"], f64::from(44 - 2 * i) * 2.0, "{c}");
            codes.push(code);
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{report}?limit=5&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let all: Vec<String> = (0..12u32).map(|i| format!("C-{i:02}")).collect();
    assert_eq!(codes, all);

    // Admins only; bad parameters are named; another school sees its own.
    problem(s.gw.get(report, &tess).await, 403, "permission_denied").await;
    let body = problem(
        s.gw.get(&format!("{report}?limit=0"), &admin).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["limit"]);
    problem(
        s.gw.get(&format!("{report}?cursor=nope"), &admin).await,
        400,
        "invalid_argument",
    )
    .await;
    let (south, _) = s.read(report, &south_admin).await;
    assert_eq!(south["items"], json!([]));
    let (south, _) = s.read(dashboard, &south_admin).await;
    assert_eq!(south["graded_courses"], 0);
    assert_eq!(south["course_grades"], json!([]));
}

async fn csv_report(s: &System, admin: &str, path: &str) -> Response {
    let r =
        s.gw.http
            .get(s.gw.url(path))
            .bearer_auth(admin)
            .header(header::ACCEPT, "text/csv")
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv"),
        "{path}"
    );
    // Streamed: chunked, no length known in advance.
    assert!(r.headers().get(header::CONTENT_LENGTH).is_none());
    r
}

#[tokio::test]
async fn reports_stream_json_or_csv_over_at_most_366_days() {
    let s = system().await;
    let (admin, _) = s.school("north").await;
    let (tess, tess_id) = s.gw.named_teacher("north", &admin, "tess@north.test").await;
    let course = id_of(&s.gw.course(&admin, "MATH-1", &tess_id, 30).await);
    let ada = id_of(&s.gw.create_student(&admin, "A-1", "Ada").await);
    let ben = id_of(&s.gw.create_student(&admin, "A-2", "Ben").await);
    s.enrol(&admin, &course, &ada).await;
    s.enrol(&admin, &course, &ben).await;
    let yesterday = today() - Days::new(1);
    s.mark(&tess, &course, yesterday, &ada, "present").await;
    s.mark(&tess, &course, today(), &ada, "absent").await;
    s.mark(&tess, &course, today(), &ben, "late").await;
    let r =
        s.gw.post(
            "/api/v1/invoices",
            &admin,
            json!({"student_id": ada, "currency": "USD", "status": "issued",
                "lines": [{"description": "Tuition, term 1", "quantity": 1, "unit_amount": 12_500}],
                "issued_on": today().to_string(),
                "due_on": (today() + Days::new(30)).to_string()}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // 366 days, both ends counted: the longest range.
    let from = today() - Days::new(365);
    let attendance = format!("/api/v1/reports/attendance?from={from}&to={}", today());
    let report = s
        .until(&attendance, &admin, "both days in the report", |r| {
            r["days"].as_array().unwrap().len() == 2
                && r["days"][1]["absent"] == 1
                && r["days"][1]["late"] == 1
        })
        .await
        .0;
    assert_eq!(report["days"][0]["date"], yesterday.to_string());
    assert_eq!(report["days"][0]["rate"], 100.0);
    assert_eq!(report["days"][1]["date"], today().to_string());
    assert_eq!(report["days"][1]["rate"], 50.0);

    // CSV: a header row, CRLF records, the same figures.
    let r = csv_report(&s, &admin, &attendance).await;
    let disposition = r.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.contains("attachment"), "{disposition}");
    let text = r.text().await.unwrap();
    assert_eq!(
        text,
        format!(
            "date,present,absent,late,excused,rate\r\n{yesterday},1,0,0,0,100.00\r\n{},0,1,1,0,50.00\r\n",
            today()
        )
    );
    // Filtered to a course and grade (the only ones here) and to another
    // grade (nothing but the header).
    let r = csv_report(
        &s,
        &admin,
        &format!("{attendance}&course_id={course}&grade_level=5"),
    )
    .await;
    assert_eq!(r.text().await.unwrap().lines().count(), 3);
    let r = csv_report(&s, &admin, &format!("{attendance}&grade_level=6")).await;
    assert_eq!(
        r.text().await.unwrap(),
        "date,present,absent,late,excused,rate\r\n"
    );
    let (empty, _) = s.read(&format!("{attendance}&grade_level=6"), &admin).await;
    assert_eq!(empty, json!({"days": []}));

    // Fees: a month's row; a text field with a comma would be quoted.
    let fees = format!("/api/v1/reports/fees?from={from}&to={}", today());
    let month = today().format("%Y-%m").to_string();
    s.until(&fees, &admin, "the invoice in the fee report", |r| {
        r["months"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["month"] == month.as_str() && m["billed"] == 12_500)
    })
    .await;
    let r = csv_report(&s, &admin, &fees).await;
    let text = r.text().await.unwrap();
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("month,currency,billed,collected,outstanding")
    );
    assert!(
        text.contains(&format!("\r\n{month},USD,12500,0,12500\r\n")),
        "{text}"
    );
    assert!(text.ends_with("\r\n") && !text.contains('"'), "{text}");

    // 367 days: 400 naming `to`; bad dates and values name theirs.
    let too_long = today() - Days::new(366);
    for path in [
        format!("/api/v1/reports/attendance?from={too_long}&to={}", today()),
        format!("/api/v1/reports/fees?from={too_long}&to={}", today()),
        format!("/api/v1/reports/fees?from={}&to={from}", today()),
    ] {
        let body = problem(s.gw.get(&path, &admin).await, 400, "invalid_argument").await;
        assert_eq!(error_fields(&body), ["to"], "{path}");
    }
    let body = problem(
        s.gw.get(
            "/api/v1/reports/attendance?from=2026-02-30&to=tomorrow&grade_level=x&course_id=1",
            &admin,
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(
        error_fields(&body),
        ["course_id", "from", "grade_level", "to"]
    );
    let body = problem(
        s.gw.get("/api/v1/reports/fees", &admin).await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&body), ["from", "to"]);
    problem(
        s.gw.get(&format!("{fees}&currency=USD"), &admin).await,
        400,
        "invalid_argument",
    )
    .await;

    // Admins only.
    problem(s.gw.get(&attendance, &tess).await, 403, "permission_denied").await;
    problem(s.gw.get(&fees, &tess).await, 403, "permission_denied").await;
}
