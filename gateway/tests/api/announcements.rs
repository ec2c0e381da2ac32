//! Announcements end to end over real HTTP, every part real: the gateway in
//! front of students-svc (its relay publishes the school's events) and
//! notify-svc (it projects guardians, courses and enrolments from them, fans
//! announcements out as jobs and mails a real SMTP server). A teacher
//! announces to their course (202 at once, each guardian told once, the
//! progress reaching `done`), not to another course or the school (403); an
//! empty audience and bad fields are 400s naming the field; the daily quota
//! answers 429 with `Retry-After`; another school's announcement is 404.
//! Guardians' preferred language is a field of the guardian resource.

use std::time::Duration;

use platform::{
    events::stream_key,
    testing::{eventually, redis::redis_url, smtp::SmtpServer},
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(30);

/// notify-svc consuming a registry of the test's own, mailing `smtp`, with
/// a quota of `per_day` announcements.
async fn spawn_notify(
    notify_url: &str,
    redis: &str,
    registry: &str,
    smtp: &SmtpServer,
    per_day: u32,
) -> (String, oneshot::Sender<()>) {
    let mut c = notify_svc::config::Config::for_database(notify_url);
    c.consumer_enabled = true;
    c.redis_url = redis.to_owned();
    c.events_registry = registry.to_owned();
    c.consumer_name = Some(format!("test-{}", Uuid::new_v4().simple()));
    c.consumer_block_ms = 100;
    c.consumer_discover_ms = 50;
    c.jobs.jobs_poll_ms = 50;
    c.jobs.email.smtp_host = Some("127.0.0.1".into());
    c.jobs.email.smtp_port = Some(smtp.addr().port());
    c.jobs.email.smtp_security = notify_svc::email::SmtpSecurity::None;
    c.announcements.announcements_per_day = per_day;
    let app = notify_svc::Application::build(&c)
        .await
        .expect("build notify-svc");
    let addr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), stop)
}

async fn json_of(r: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    r.json().await.unwrap()
}

fn to_course(course: &str) -> Value {
    json!({"title": "Trip on Friday", "body": "Bring a packed lunch.\nBack by 4pm.",
           "audience": {"kind": "courses", "course_ids": [course]}})
}

#[tokio::test]
async fn announcements_reach_each_guardian_once_within_the_rules() {
    init_logs();
    let redis = redis_url();
    let smtp = SmtpServer::start().await.unwrap();
    let db = platform::testing::fresh_database().await.unwrap();
    let mut students = students_svc::config::Config::for_database(&db.students_url);
    students.relay_enabled = true;
    students.redis_url = redis.clone();
    students.relay_poll_ms = 5;
    let (students_url, stop_students) = spawn_students_with(&students).await;
    let registry = format!("ev:streams:test:{}", Uuid::new_v4().simple());
    let (notify_url, _stop_notify) =
        spawn_notify(&db.notify_url, &redis, &registry, &smtp, 3).await;
    let mut config = gateway::config::Config::for_tests(students_url, redis.clone());
    config.notify_url = notify_url;
    let gw = gateway_for(db, config, stop_students).await;
    let bus = platform::testing::bus::redis(&redis).await;

    let slug = format!("a{}", &Uuid::new_v4().simple().to_string()[..8]);
    let school = gw.create_school(&slug).await;
    let id: Uuid = school["school"]["id"].as_str().unwrap().parse().unwrap();
    // notify-svc reads this school's stream from its start.
    let _: i64 = fred::interfaces::SetsInterface::sadd(&bus, registry.as_str(), stream_key(id))
        .await
        .unwrap();
    let admin = gw.login(&slug, &format!("admin@{slug}.test")).await;
    let other_admin = gw.admin(&format!("o{}", &slug[1..])).await;
    let teacher = gw.teacher(&slug, &admin).await;
    let me = json_of(gw.get("/api/v1/auth/me", &teacher).await, StatusCode::OK).await;
    let teacher_id = me["id"].as_str().unwrap().to_owned();
    let course = |code: &str, teacher: &str| {
        json!({"code": code, "name": code, "term": "2026-T1", "teacher_id": teacher,
               "capacity": 30})
    };
    let mine = json_of(
        gw.post("/api/v1/courses", &admin, course("MATH-1", &teacher_id))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_teacher = json_of(
        gw.post(
            "/api/v1/users",
            &admin,
            json!({"email": format!("art@{slug}.test"), "password": PASSWORD,
                   "full_name": "Art Teacher", "role": "teacher"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = json_of(
        gw.post("/api/v1/courses", &admin, course("ART-1", &other_teacher))
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ada = gw.create_student(&admin, "A-1", "Ada").await;
    let ben = gw.create_student(&admin, "B-1", "Ben").await;
    for s in [&ada, &ben] {
        let r = gw
            .post(
                &format!("/api/v1/courses/{mine}/enrolments"),
                &admin,
                json!({"student_id": s["id"]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }

    // The guardian's language: two lowercase letters, or none.
    let bad = gw
        .post(
            "/api/v1/guardians",
            &admin,
            json!({"given_name": "Mary", "family_name": "Ng", "relationship": "mother",
                   "preferred_language": "French"}),
        )
        .await;
    let body = problem(bad, 400, "invalid_argument").await;
    assert_eq!(error_fields(&body), ["preferred_language"]);
    let mum = json_of(
        gw.post(
            "/api/v1/guardians",
            &admin,
            json!({"given_name": "Mary", "family_name": "Ng", "relationship": "mother",
                   "email": format!("mary@{slug}.test"), "notifications": {"email": true},
                   "preferred_language": "fr",
                   "login": {"email": format!("mary@{slug}.test"), "password": PASSWORD}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(mum["preferred_language"], "fr");
    let dad = json_of(
        gw.post(
            "/api/v1/guardians",
            &admin,
            json!({"given_name": "Dan", "family_name": "Ng", "relationship": "father",
                   "email": format!("dan@{slug}.test"), "notifications": {"email": true}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(dad["preferred_language"], Value::Null, "the school's");
    let mum_id = mum["id"].as_str().unwrap();
    let dad_id = dad["id"].as_str().unwrap();
    for (g, s) in [(mum_id, &ada), (mum_id, &ben), (dad_id, &ben)] {
        let r = gw
            .put(
                &format!(
                    "/api/v1/guardians/{g}/students/{}",
                    s["id"].as_str().unwrap()
                ),
                &admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let changed = json_of(
        gw.patch(
            &format!("/api/v1/guardians/{dad_id}"),
            &admin,
            json!({"version": 1, "preferred_language": "de"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["preferred_language"], "de");
    // notify-svc has projected the links and enrolments.
    eventually("the projection", WAIT, || async {
        gw.db.count("notify.guardian_students").await == 3
            && gw.db.count("notify.enrolments").await == 2
            && gw.db.count("notify.courses").await == 2
            // The languages travel in the guardian events.
            && gw.db.count("notify.guardians WHERE lang = 'fr'").await == 1
            && gw.db.count("notify.guardians WHERE lang = 'de'").await == 1
    })
    .await;

    // Refused, naming why, before anything is written.
    for body in [
        to_course(&theirs),
        json!({"title": "x", "body": "y", "audience": {"kind": "school"}}),
    ] {
        problem(
            gw.post("/api/v1/announcements", &teacher, body).await,
            403,
            "permission_denied",
        )
        .await;
    }
    let empty = gw
        .post(
            "/api/v1/announcements",
            &admin,
            json!({"title": "x", "body": "y", "audience": {"kind": "grade_levels", "grade_levels": [12]}}),
        )
        .await;
    assert_eq!(
        error_fields(&problem(empty, 400, "invalid_argument").await),
        ["audience"]
    );
    let bad = gw
        .post(
            "/api/v1/announcements",
            &admin,
            json!({"title": "t".repeat(201), "body": " ",
                   "audience": {"kind": "courses", "course_ids": ["nope"]}}),
        )
        .await;
    assert_eq!(
        error_fields(&problem(bad, 400, "invalid_argument").await),
        ["audience.course_ids[0]", "body", "title"]
    );
    let unknown = gw
        .post(
            "/api/v1/announcements",
            &admin,
            json!({"title": "x", "body": "y", "audience": {"kind": "school"}, "pin": 1}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(gw.db.count("notify.announcements").await, 0);

    // The teacher to their course: answered at once, then delivered.
    let r = gw
        .post("/api/v1/announcements", &teacher, to_course(&mine))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = r.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/announcements/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(
        created["audience"],
        json!({"kind": "courses", "grade_levels": [],
        "course_ids": [mine], "guardian_ids": []})
    );
    let done = eventually("the announcement delivered", WAIT, || async {
        let a = json_of(gw.get(&location, &teacher).await, StatusCode::OK).await;
        (a["status"] == "done").then_some(a)
    })
    .await;
    assert_eq!(
        done["recipients"], 2,
        "Mum (two children in it) once, and Dad"
    );
    assert_eq!(
        done["channels"][1],
        json!({"channel": "email", "queued": 0, "sent": 2, "failed": 0})
    );
    for to in [format!("mary@{slug}.test"), format!("dan@{slug}.test")] {
        let mails: Vec<_> = smtp
            .mails()
            .into_iter()
            .filter(|m| m.to == [to.clone()])
            .collect();
        assert_eq!(mails.len(), 1, "{to}");
        assert_eq!(
            mails[0].header("Subject").as_deref(),
            Some("Trip on Friday")
        );
        assert_eq!(mails[0].body(), "Bring a packed lunch.\nBack by 4pm.");
    }

    // Mum reads it once in her inbox, however many children she has in it.
    let mary = gw.login(&slug, &format!("mary@{slug}.test")).await;
    let inbox = json_of(
        gw.get("/api/v1/me/notifications", &mary).await,
        StatusCode::OK,
    )
    .await;
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{inbox}");
    assert_eq!(
        (&items[0]["kind"], &items[0]["title"]),
        (&json!("announcement"), &json!("Trip on Friday"))
    );

    // Reads: the teacher's own list; another school's admin sees nothing.
    let list = json_of(
        gw.get("/api/v1/announcements?limit=1", &teacher).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"][0]["id"], created["id"]);
    assert_eq!(list["next_cursor"], Value::Null);
    problem(gw.get(&location, &other_admin).await, 404, "not_found").await;
    let theirs_list = json_of(
        gw.get("/api/v1/announcements", &other_admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs_list["items"], json!([]));
    problem(
        gw.get("/api/v1/announcements/nope", &admin).await,
        400,
        "invalid_argument",
    )
    .await;

    // The quota (3 a day): two more, then 429 with Retry-After.
    for _ in 0..2 {
        let r = gw
            .post("/api/v1/announcements", &admin, to_course(&mine))
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let over = gw
        .post("/api/v1/announcements", &admin, to_course(&mine))
        .await;
    let retry: u64 = over.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=25 * 3600).contains(&retry), "{retry}");
    problem(over, 429, "rate_limited").await;
    assert_eq!(gw.db.count("notify.announcements").await, 3);
}
