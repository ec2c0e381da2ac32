//! Report cards end to end over real HTTP, every part real: the gateway in
//! front of students-svc (its relay publishes the school's events),
//! analytics-svc (it keeps the student summaries from them) and notify-svc
//! (it projects students and guardian links, and renders each card as a job
//! from analytics-svc's summary over gRPC). The PDF is read back with lopdf:
//! it names the student and shows the course averages the summary shows.
//! Admins, the student and linked guardians read a card; another school,
//! another student and another guardian get 404, a teacher 403. A bad term
//! is a 400 that writes nothing; a term without grades gives a card that
//! says so. A grade level's cards come as one batch.
//!
//! Dates are relative to today (UTC, the schools' default time zone).

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use platform::{
    events::stream_key,
    testing::{eventually, redis::redis_url},
};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use tokio::{net::TcpStream, sync::oneshot};
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, http::HeaderValue, Message},
    MaybeTlsStream, WebSocketStream,
};
use uuid::Uuid;

use crate::helpers::*;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(30);

/// The words of a card without grades (notify-svc's `render::NO_GRADES`).
const NO_GRADES: &str = "No grades have been recorded for this term.";

struct System {
    gw: TestGateway,
    bus: fred::clients::Client,
    registry: String,
    _stop_analytics: oneshot::Sender<()>,
    _stop_notify: oneshot::Sender<()>,
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

    let mut n = notify_svc::config::Config::for_database(&db.notify_url);
    n.consumer_enabled = true;
    n.redis_url = redis.clone();
    n.events_registry = registry.clone();
    n.consumer_name = Some(format!("test-{}", Uuid::new_v4().simple()));
    n.consumer_block_ms = 100;
    n.consumer_discover_ms = 50;
    n.jobs.jobs_poll_ms = 50;
    n.report_cards.analytics_url = analytics.clone();
    let app = notify_svc::Application::build(&n)
        .await
        .expect("build notify-svc");
    let notify = format!("http://{}", app.local_addr());
    let (stop_notify, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let mut config = gateway::config::Config::for_tests(students_url, redis.clone());
    config.analytics_url = analytics;
    config.notify_url = notify;
    let gw = gateway_for(db, config, stop_students).await;
    let bus = platform::testing::bus::redis(&redis).await;
    System {
        gw,
        bus,
        registry,
        _stop_analytics: stop_analytics,
        _stop_notify: stop_notify,
    }
}

impl System {
    /// A school whose events both consumers read from the stream's start:
    /// its admin's token.
    async fn school(&self, slug: &str) -> String {
        let created = self.gw.create_school(slug).await;
        let id: Uuid = created["school"]["id"].as_str().unwrap().parse().unwrap();
        let _: i64 = fred::interfaces::SetsInterface::sadd(
            &self.bus,
            self.registry.as_str(),
            stream_key(id),
        )
        .await
        .unwrap();
        self.gw.login(slug, &format!("admin@{slug}.test")).await
    }

    /// A student with a portal login: (token, id).
    async fn student(&self, slug: &str, admin: &str, no: &str, given: &str) -> (String, String) {
        let email = format!("{}@{slug}.test", given.to_lowercase());
        let mut body = new_student(no, given);
        body["login"] = json!({"email": email, "password": PASSWORD});
        let s = json_of(
            self.gw.post("/api/v1/students", admin, body).await,
            StatusCode::CREATED,
        )
        .await;
        (self.gw.login(slug, &email).await, id_of(&s))
    }

    /// A guardian with a portal login linked to `child`: its token.
    async fn guardian(&self, slug: &str, admin: &str, given: &str, child: &str) -> String {
        let email = format!("{}@{slug}.test", given.to_lowercase());
        let g = json_of(
            self.gw
                .post(
                    "/api/v1/guardians",
                    admin,
                    json!({"given_name": given, "family_name": "Ng", "relationship": "mother",
                           "email": email, "login": {"email": email, "password": PASSWORD}}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        let r = self
            .gw
            .put(
                &format!("/api/v1/guardians/{}/students/{child}", id_of(&g)),
                admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        self.gw.login(slug, &email).await
    }

    async fn course(&self, admin: &str, code: &str, term: &str, teacher: &str) -> String {
        id_of(
            &json_of(
                self.gw
                    .post(
                        "/api/v1/courses",
                        admin,
                        json!({"code": code, "name": format!("Course {code}"), "term": term,
                               "teacher_id": teacher, "capacity": 30}),
                    )
                    .await,
                StatusCode::CREATED,
            )
            .await,
        )
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

    /// Asks for `student`'s card of `term` (retrying while notify-svc has
    /// not yet seen the student's event): the 202's body and Location.
    async fn request_card(&self, admin: &str, student: &str, term: &str) -> (Value, String) {
        eventually("the card accepted", WAIT, || async {
            let r = self
                .gw
                .post(
                    &format!("/api/v1/students/{student}/report-cards"),
                    admin,
                    json!({ "term": term }),
                )
                .await;
            if r.status() == StatusCode::NOT_FOUND {
                return None;
            }
            assert_eq!(r.status(), StatusCode::ACCEPTED);
            let location = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
            Some((r.json::<Value>().await.unwrap(), location))
        })
        .await
    }

    /// Reads the card at `location` until it is no longer queued.
    async fn rendered(&self, location: &str, admin: &str) -> Value {
        eventually("the card rendered", WAIT, || async {
            let c = json_of(self.gw.get(location, admin).await, StatusCode::OK).await;
            (c["status"] != "queued").then_some(c)
        })
        .await
    }

    /// The card's PDF as `token` gets it: its text, whitespace collapsed.
    async fn pdf_text(&self, card: &str, token: &str) -> String {
        let r = self
            .gw
            .get(&format!("/api/v1/report-cards/{card}/pdf"), token)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/pdf");
        let bytes = r.bytes().await.unwrap();
        let doc = lopdf::Document::load_mem(&bytes).expect("the PDF parses");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        assert_eq!(pages, [1]);
        let text = doc.extract_text(&pages).expect("text extracts");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

async fn json_of(r: reqwest::Response, status: StatusCode) -> Value {
    let got = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn ws_connect(gw: &TestGateway, token: &str) -> Socket {
    let url = format!("{}/api/v1/ws", gw.base.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&format!("bearer, {token}")).unwrap(),
    );
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    ws
}

/// The next `report_card.updated` message, skipping pings and others.
async fn next_card_update(ws: &mut Socket) -> Value {
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("no error");
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["kind"] == "report_card.updated" {
                return v;
            }
        }
    }
}

#[tokio::test]
async fn report_cards_render_the_summary_for_their_readers_only() {
    let s = system().await;
    let admin = s.school("north").await;
    let south = s.school("south").await;
    let (tess, tess_id) = s.gw.named_teacher("north", &admin, "tess@north.test").await;
    let math = s.course(&admin, "MATH-1", "2026-T1", &tess_id).await;
    let art = s.course(&admin, "ART-1", "2026-T1", &tess_id).await;
    let hist = s.course(&admin, "HIST-2", "2026-T2", &tess_id).await;
    let (ada_token, ada) = s.student("north", &admin, "A-1", "Ada").await;
    let (ben_token, ben) = s.student("north", &admin, "A-2", "Ben").await;
    let mary = s.guardian("north", &admin, "Mary", &ada).await;
    let lee = s.guardian("north", &admin, "Lee", &ben).await;
    for c in [&math, &art, &hist] {
        s.enrol(&admin, c, &ada).await;
    }
    s.enrol(&admin, &math, &ben).await;
    s.gw.published_assessment(&tess, &math, &[(&ada, 45.5), (&ben, 30.0)])
        .await;
    s.gw.published_assessment(&tess, &art, &[(&ada, 41.0)])
        .await;
    let today = Utc::now().date_naive();
    let r =
        s.gw.put(
            &format!("/api/v1/courses/{math}/attendance/{today}"),
            &tess,
            json!({"entries": [{"student_id": ada, "status": "present"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // The summary as Ada sees it, once analytics-svc has applied it all.
    let summary_path = format!("/api/v1/students/{ada}/summary");
    let summary = eventually("Ada's grades and attendance applied", WAIT, || async {
        let b = json_of(s.gw.get(&summary_path, &ada_token).await, StatusCode::OK).await;
        let graded = b["courses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["graded"].as_u64() > Some(0))
            .count();
        (graded == 2 && b["year_attendance"]["present"] == 1).then_some(b)
    })
    .await;
    let averages: Vec<(String, String)> = summary["courses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["code"] != "HIST-2")
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                format!("{:.2} %", c["average"].as_f64().unwrap()),
            )
        })
        .collect();
    assert_eq!(
        averages,
        [
            ("ART-1".to_owned(), "82.00 %".to_owned()),
            ("MATH-1".to_owned(), "91.00 %".to_owned())
        ]
    );

    // A bad term, a bad id: 400 naming the field, nothing written.
    let before = s.gw.db.count("notify.report_cards").await;
    let jobs_before = s.gw.db.count("notify.jobs").await;
    let path = format!("/api/v1/students/{ada}/report-cards");
    for bad in ["spring", "2026-T7", "1999-T1", ""] {
        let b = problem(
            s.gw.post(&path, &admin, json!({ "term": bad })).await,
            400,
            "invalid_argument",
        )
        .await;
        assert_eq!(error_fields(&b), ["term"], "{bad}");
    }
    problem(
        s.gw.post(&path, &admin, json!({"term": "2026-T1", "extra": 1}))
            .await,
        400,
        "invalid_argument",
    )
    .await;
    problem(
        s.gw.post(
            "/api/v1/students/not-an-id/report-cards",
            &admin,
            json!({"term": "2026-T1"}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    problem(
        s.gw.post(
            &format!("/api/v1/students/{}/report-cards", Uuid::now_v7()),
            &admin,
            json!({"term": "2026-T1"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // Only admins ask for cards.
    for token in [&tess, &ada_token, &mary] {
        problem(
            s.gw.post(&path, token, json!({"term": "2026-T1"})).await,
            403,
            "permission_denied",
        )
        .await;
    }
    assert_eq!(s.gw.db.count("notify.report_cards").await, before);
    assert_eq!(s.gw.db.count("notify.jobs").await, jobs_before);

    // The card: 202 at once, rendered in the background, the change pushed
    // to the requesting admin's socket.
    let mut ws = ws_connect(&s.gw, &admin).await;
    let (queued, location) = s.request_card(&admin, &ada, "2026-T1").await;
    let card = id_of(&queued);
    assert_eq!(location, format!("/api/v1/report-cards/{card}"));
    assert_eq!(queued["term"], "2026-T1");
    assert_eq!(queued["student_id"], ada.as_str());
    let done = s.rendered(&location, &admin).await;
    assert_eq!(done["status"], "ready", "{done}");
    assert_eq!(done["pdf_url"], format!("{location}/pdf"));
    assert!(done["size_bytes"].as_u64().unwrap() > 500, "{done}");
    let pushed = next_card_update(&mut ws).await;
    assert_eq!(pushed["payload"]["id"], card.as_str(), "{pushed}");
    assert_eq!(pushed["payload"]["status"], "ready");

    // The PDF names the student and shows the summary's averages of the
    // term's courses, not the other term's course.
    let text = s.pdf_text(&card, &admin).await;
    for want in [
        "School north",
        "Report card, term 2026-T1",
        "Ada Ng",
        "Attendance",
    ] {
        assert!(text.contains(want), "{want:?} in {text:?}");
    }
    for (code, avg) in &averages {
        assert!(
            text.contains(&format!("{code} Course {code} {avg}")),
            "{code} {avg} in {text:?}"
        );
    }
    assert!(text.contains("Present 1"), "{text:?}");
    assert!(!text.contains("HIST-2"), "{text:?}");
    assert!(!text.contains(NO_GRADES), "{text:?}");

    // Its readers: the admin, Ada and her guardian; not Ben, not Ben's
    // guardian, not another school (404); not a teacher (403).
    assert_eq!(s.pdf_text(&card, &ada_token).await, text);
    assert_eq!(s.pdf_text(&card, &mary).await, text);
    let status = json_of(s.gw.get(&location, &mary).await, StatusCode::OK).await;
    assert_eq!(status["status"], "ready");
    for token in [&ben_token, &lee, &south] {
        problem(s.gw.get(&location, token).await, 404, "not_found").await;
        problem(
            s.gw.get(&format!("{location}/pdf"), token).await,
            404,
            "not_found",
        )
        .await;
    }
    problem(s.gw.get(&location, &tess).await, 403, "permission_denied").await;
    problem(
        s.gw.get(&format!("/api/v1/report-cards/{}", Uuid::now_v7()), &admin)
            .await,
        404,
        "not_found",
    )
    .await;

    // A term without grades (HIST-2 has none; 2027-T1 has no course): a
    // card that says so.
    for term in ["2026-T2", "2027-T1"] {
        let (_, location) = s.request_card(&admin, &ada, term).await;
        let done = s.rendered(&location, &admin).await;
        assert_eq!(done["status"], "ready", "{done}");
        let text = s.pdf_text(done["id"].as_str().unwrap(), &admin).await;
        assert!(text.contains(NO_GRADES), "{term}: {text:?}");
        assert!(!text.contains("MATH-1"), "{term}: {text:?}");
        assert_eq!(text.contains("HIST-2"), term == "2026-T2", "{text:?}");
    }

    // A whole grade level at once: one batch, a card per current student.
    let bad = problem(
        s.gw.post(
            "/api/v1/report-cards",
            &admin,
            json!({"term": "T1", "grade_level": 13}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&bad), ["grade_level", "term"]);
    let empty = problem(
        s.gw.post(
            "/api/v1/report-cards",
            &admin,
            json!({"term": "2026-T1", "grade_level": 12}),
        )
        .await,
        400,
        "invalid_argument",
    )
    .await;
    assert_eq!(error_fields(&empty), ["grade_level"]);
    let r =
        s.gw.post(
            "/api/v1/report-cards",
            &admin,
            json!({"term": "2026-T1", "grade_level": 5}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let batch: Value = r.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/report-card-batches/{}", id_of(&batch))
    );
    assert_eq!(batch["total"], 2);
    let done = eventually("the batch done", WAIT, || async {
        let b = json_of(s.gw.get(&location, &admin).await, StatusCode::OK).await;
        (b["status"] == "done").then_some(b)
    })
    .await;
    assert_eq!(
        (done["ready"].as_u64(), done["failed"].as_u64()),
        (Some(2), Some(0))
    );
    let students: Vec<&str> = done["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["student_id"].as_str().unwrap())
        .collect();
    assert_eq!(students, [ada.as_str(), ben.as_str()]);
    let ben_card = done["cards"][1]["id"].as_str().unwrap();
    let text = s.pdf_text(ben_card, &ben_token).await;
    assert!(
        text.contains("Ben Ng") && text.contains("MATH-1 Course MATH-1 60.00 %"),
        "{text:?}"
    );
    problem(s.gw.get(&location, &south).await, 404, "not_found").await;
    problem(
        s.gw.get(&location, &ben_token).await,
        403,
        "permission_denied",
    )
    .await;
}
