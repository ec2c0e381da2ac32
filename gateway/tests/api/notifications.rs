//! Absence alerts end to end on the Redis Cluster, every part real and over
//! TCP: a teacher marks a student absent through the gateway; students-svc
//! records the event and its relay publishes it; notify-svc consumes it,
//! creates the guardian's notification and its push job, whose worker
//! publishes it to the guardian's open WebSocket on the gateway; the
//! guardian then reads and marks it through `/api/v1/me/notifications`.

use std::time::Duration;

use futures::StreamExt;
use platform::{
    events::stream_key,
    realtime::{self, Kind, Target},
    redis::RedisSettings,
    testing::redis::cluster_url,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::{net::TcpStream, sync::oneshot, task::JoinHandle};
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, http::HeaderValue, Message},
    MaybeTlsStream, WebSocketStream,
};
use uuid::Uuid;

use crate::helpers::*;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(30);

/// notify-svc in-process on the test's database, consuming a stream
/// registry of the test's own so it never takes other tests' events.
struct Notify {
    addr: std::net::SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Notify {
    async fn spawn(notify_url: &str, redis: &str, registry: &str) -> Self {
        let mut c = notify_svc::config::Config::for_database(notify_url);
        c.consumer_enabled = true;
        c.redis_url = redis.to_owned();
        c.events_registry = registry.to_owned();
        c.consumer_name = Some(format!("test-{}", Uuid::new_v4().simple()));
        c.consumer_block_ms = 100;
        c.consumer_discover_ms = 50;
        let app = notify_svc::Application::build(&c)
            .await
            .expect("build notify-svc");
        let addr = app.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self { addr, stop, task }
    }

    /// Stops it and requires a clean stop.
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("notify-svc stops in time")
            .expect("notify-svc task")
            .expect("notify-svc stopped cleanly");
    }
}

async fn redis(url: &str) -> fred::clients::Client {
    let client = platform::redis::client(
        url,
        &RedisSettings {
            command_timeout: Duration::from_secs(2),
            ..Default::default()
        },
    )
    .unwrap();
    fred::interfaces::ClientLike::init(&client)
        .await
        .expect("redis connects");
    client
}

async fn ws_connect(gw: &TestGateway, token: &str) -> Socket {
    let url = format!("{}/api/v1/ws", gw.base.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&format!("bearer, {token}")).unwrap(),
    );
    let (ws, response) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    assert_eq!(response.headers()["sec-websocket-protocol"], "bearer");
    ws
}

/// The next text message, skipping pings.
async fn next_message(ws: &mut Socket) -> Value {
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("no error");
        match m {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

async fn ok_json(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

impl TestGateway {
    /// A guardian of `slug` with a portal login `email`, told by push and
    /// SMS: (guardian id, token, user id).
    async fn guardian_login(
        &self,
        slug: &str,
        admin: &str,
        email: &str,
    ) -> (String, String, String) {
        let r = self
            .post(
                "/api/v1/guardians",
                admin,
                json!({"given_name": "Mary", "family_name": "Ng", "relationship": "mother",
                       "phone": "+447911123456", "email": email,
                       "notifications": {"sms": true, "push": true},
                       "login": {"email": email, "password": PASSWORD}}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let g: Value = r.json().await.unwrap();
        let token = self.login(slug, email).await;
        let me = ok_json(self.get("/api/v1/auth/me", &token).await).await;
        (
            g["id"].as_str().unwrap().to_owned(),
            token,
            me["id"].as_str().unwrap().to_owned(),
        )
    }

    async fn inbox(&self, token: &str, query: &str) -> Value {
        ok_json(
            self.get(&format!("/api/v1/me/notifications{query}"), token)
                .await,
        )
        .await
    }

    async fn mark_read(&self, token: &str, ids: Value) -> reqwest::Response {
        self.post("/api/v1/me/notifications/read", token, json!({"ids": ids}))
            .await
    }
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_marked_absence_is_pushed_to_the_guardian_and_read_in_their_inbox_on_the_cluster() {
    init_logs();
    let cluster = cluster_url();
    let db = platform::testing::fresh_database().await.unwrap();
    let mut students = students_svc::config::Config::for_database(&db.students_url);
    students.relay_enabled = true;
    students.redis_url = cluster.clone();
    students.relay_poll_ms = 5;
    let (students_url, stop_students) = spawn_students_with(&students).await;
    let registry = format!("ev:streams:test:{}", Uuid::new_v4().simple());
    let notify = Notify::spawn(&db.notify_url, &cluster, &registry).await;
    let mut config = gateway::config::Config::for_tests(students_url, cluster.clone());
    config.notify_url = format!("http://{}", notify.addr);
    let gw = gateway_for(db, config, stop_students).await;
    let bus = redis(&cluster).await;

    let school = gw.create_school("north").await;
    let north: Uuid = school["school"]["id"].as_str().unwrap().parse().unwrap();
    // notify-svc reads this school's stream from its start.
    let _: i64 = fred::interfaces::SetsInterface::sadd(&bus, registry.as_str(), stream_key(north))
        .await
        .unwrap();
    let admin = gw.login("north", "admin@north.test").await;
    let ada = gw.create_student(&admin, "A-1", "Ada").await;
    let ada_id = ada["id"].as_str().unwrap().to_owned();
    let (mum, mary, mary_user) = gw.guardian_login("north", &admin, "mary@north.test").await;
    let r = gw
        .put(
            &format!("/api/v1/guardians/{mum}/students/{ada_id}"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // A guardian of the same school, not Ada's: told nothing.
    let (_, lee, _) = gw.guardian_login("north", &admin, "lee@north.test").await;
    let (tess, tess_id) = gw.named_teacher("north", &admin, "tess@north.test").await;
    let course = gw.course(&admin, "MATH-1", &tess_id, 30).await;
    let course_id = course["id"].as_str().unwrap();
    let r = gw
        .post(
            &format!("/api/v1/courses/{course_id}/enrolments"),
            &admin,
            json!({"student_id": ada_id}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let mut mary_ws = ws_connect(&gw, &mary).await;
    let mut lee_ws = ws_connect(&gw, &lee).await;
    let r = gw
        .put(
            &format!("/api/v1/courses/{course_id}/attendance/2026-11-23"),
            &tess,
            json!({"entries": [{"student_id": ada_id, "status": "absent"}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let pushed = next_message(&mut mary_ws).await;
    assert_eq!(pushed["kind"], "notification.created", "{pushed}");
    assert_eq!(pushed["school"], north.to_string());
    assert_eq!(
        pushed["target"],
        json!({"type": "user", "user_id": mary_user})
    );
    assert_eq!(pushed["payload"]["student_id"], ada_id.as_str());
    assert_eq!(pushed["payload"]["kind"], "absence");
    assert!(
        pushed["payload"]["title"].as_str().unwrap().contains("Ada"),
        "{pushed}"
    );
    let id = pushed["payload"]["id"].as_str().unwrap().to_owned();
    // A marker to the whole school after it: Lee's first message, and
    // Mary's next (the push came once).
    realtime::publish(
        &bus,
        north,
        Target::School,
        Kind::try_from("marker").unwrap(),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(next_message(&mut lee_ws).await["kind"], "marker");
    assert_eq!(next_message(&mut mary_ws).await["kind"], "marker");

    // The inbox: the same notification, unread; the SMS was queued too.
    let page = gw.inbox(&mary, "").await;
    assert_eq!(ids(&page), [id.as_str()]);
    assert_eq!(page["unread"], 1);
    assert!(page["next_cursor"].is_null());
    let n = &page["items"][0];
    assert_eq!(
        (&n["kind"], &n["student_id"], &n["read_at"]),
        (&json!("absence"), &json!(ada_id), &Value::Null)
    );
    assert_eq!(n["title"], pushed["payload"]["title"]);
    let mut channels: Vec<&str> = n["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    channels.sort_unstable();
    assert_eq!(channels, ["push", "sms"]);
    let jobs: i64 = gw
        .db
        .count("notify.jobs WHERE kind IN ('sms', 'push')")
        .await;
    assert_eq!(jobs, 2, "one SMS and one push");
    assert_eq!(
        ids(&gw.inbox(&mary, "?unread=true&limit=1").await),
        [id.as_str()]
    );

    // Nobody else reads or marks it: Lee (same school) and a guardian of
    // another school see empty inboxes and get 404 for Mary's id.
    let south = gw.admin("south").await;
    let (_, sue, _) = gw.guardian_login("south", &south, "sue@south.test").await;
    for other in [&lee, &sue] {
        let page = gw.inbox(other, "").await;
        assert_eq!(
            (page["items"].clone(), page["unread"].clone()),
            (json!([]), json!(0))
        );
        let r = gw.mark_read(other, json!([id])).await;
        problem(r, 404, "not_found").await;
    }
    assert_eq!(gw.inbox(&mary, "").await["unread"], 1, "still unread");

    // Mary marks it read; marking again keeps the first read time.
    let r = gw.mark_read(&mary, json!([id])).await;
    let marked = ok_json(r).await;
    assert_eq!(ids(&marked), [id.as_str()]);
    let read_at = marked["items"][0]["read_at"].clone();
    assert!(read_at.is_string(), "{marked}");
    let page = gw.inbox(&mary, "").await;
    assert_eq!(
        (page["unread"].clone(), page["items"][0]["read_at"].clone()),
        (json!(0), read_at.clone())
    );
    assert_eq!(gw.inbox(&mary, "?unread=true").await["items"], json!([]));
    let again = ok_json(gw.mark_read(&mary, json!([id])).await).await;
    assert_eq!(again["items"][0]["read_at"], read_at);

    // Bad input: 400 naming the field, nothing marked.
    for (query, fields) in [
        ("?limit=0", vec!["limit"]),
        ("?limit=101", vec!["limit"]),
        ("?unread=maybe", vec!["unread"]),
        ("?limit=abc&unread=1", vec!["limit", "unread"]),
        ("?cursor=bm90LWEtY3Vyc29y", vec!["cursor"]),
    ] {
        let r = gw
            .get(&format!("/api/v1/me/notifications{query}"), &mary)
            .await;
        let body = problem(r, 400, "invalid_argument").await;
        assert_eq!(error_fields(&body), fields, "{query}");
    }
    let too_many: Vec<String> = (0..101).map(|_| Uuid::now_v7().to_string()).collect();
    for (ids, fields) in [
        (json!([]), vec!["ids"]),
        (json!(too_many), vec!["ids"]),
        (json!([Uuid::now_v7(), "nope"]), vec!["ids[1]"]),
    ] {
        let body = problem(gw.mark_read(&lee, ids).await, 400, "invalid_argument").await;
        assert_eq!(error_fields(&body), fields);
    }
    let r = gw
        .post(
            "/api/v1/me/notifications/read",
            &mary,
            json!({"ids": [id], "all": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = gw
        .http
        .get(gw.url("/api/v1/me/notifications"))
        .send()
        .await
        .unwrap();
    problem(r, 401, "unauthenticated").await;
    let r = gw
        .http
        .post(gw.url("/api/v1/me/notifications/read"))
        .json(&json!({"ids": [id]}))
        .send()
        .await
        .unwrap();
    problem(r, 401, "unauthenticated").await;

    drop(gw);
    notify.stop().await;
}
