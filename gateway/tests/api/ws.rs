//! The realtime WebSocket against real Redis (standalone and cluster) with a
//! real WebSocket client: routing by target and school, refusals before the
//! upgrade, the gauge, heartbeat, slow clients, token expiry and shutdown.
//! Absence is asserted with a later marker message, never with a sleep.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use gateway::{auth::Tokens, config::Config};
use platform::{
    caller::{Caller, Role},
    realtime::{self, Kind, Target},
    redis::RedisSettings,
    testing::{
        eventually,
        redis::{cluster_url, redis_url},
        PrivateRedis,
    },
};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{
        client::IntoClientRequest, handshake::client::Request, http::HeaderValue, Message,
    },
    MaybeTlsStream, WebSocketStream,
};
use uuid::Uuid;

use crate::helpers::{spawn_configured, spawn_instance, Instance};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(15);
const ALLOWED_ORIGIN: &str = "https://app.example.test";

/// A gateway for WebSocket tests: no students-svc is needed (tokens are
/// minted with the gateway's own key), so it waits only for the realtime
/// subscriber.
struct Gw {
    instance: Instance,
    config: Config,
    tokens: Tokens,
    publisher: fred::clients::Client,
}

async fn spawn_gw(redis: String, tweak: impl FnOnce(&mut Config)) -> Gw {
    // Nothing listens there: these tests never reach students-svc.
    let mut config = Config::for_tests("http://127.0.0.1:9".into(), redis.clone());
    tweak(&mut config);
    let instance = spawn_instance(config.clone());
    let deadline = Instant::now() + WAIT;
    loop {
        let body: Value = match reqwest::get(format!("{}/readyz", instance.base)).await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
        if body["realtime"] == "ok" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "subscriber not connected: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let publisher = platform::redis::client(
        &redis,
        &RedisSettings {
            command_timeout: Duration::from_secs(2),
            ..Default::default()
        },
    )
    .unwrap();
    fred::interfaces::ClientLike::init(&publisher)
        .await
        .expect("publisher connects");
    Gw {
        tokens: Tokens::new(&config),
        instance,
        config,
        publisher,
    }
}

fn caller(school: Uuid, role: Role) -> Caller {
    Caller {
        school_id: school,
        user_id: Uuid::now_v7(),
        role,
        student_id: (role == Role::Student).then(Uuid::now_v7),
    }
}

impl Gw {
    fn ws_url(&self) -> String {
        format!("{}/api/v1/ws", self.instance.base.replacen("http", "ws", 1))
    }

    fn token(&self, c: &Caller) -> String {
        self.tokens.issue_unrecorded(c).unwrap()
    }

    /// An upgrade request carrying `token` as browsers do (subprotocols).
    fn request(&self, token: &str) -> Request {
        let mut r = self.ws_url().into_client_request().unwrap();
        r.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(&format!("bearer, {token}")).unwrap(),
        );
        r
    }

    async fn connect(&self, c: &Caller) -> Socket {
        let (ws, response) = tokio_tungstenite::connect_async(self.request(&self.token(c)))
            .await
            .expect("upgrade");
        assert_eq!(response.headers()["sec-websocket-protocol"], "bearer");
        ws
    }

    /// The status of a refused upgrade.
    async fn refused(&self, r: Request) -> u16 {
        match tokio_tungstenite::connect_async(r).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
            Ok(_) => panic!("upgraded"),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    async fn publish(&self, school: Uuid, target: Target, kind: &str) {
        realtime::publish(
            &self.publisher,
            school,
            target,
            Kind::try_from(kind).unwrap(),
            json!({"note": kind}),
        )
        .await
        .expect("publish");
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.instance.admin))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn metric(&self, series: &str) -> u64 {
        let text = self.metrics().await;
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} missing in {text}"))
    }

    /// Waits until `series` satisfies `ok`.
    async fn wait_metric(&self, series: &str, ok: impl Fn(u64) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.metric(series).await;
            if ok(v) {
                return;
            }
            assert!(Instant::now() < deadline, "{series} stuck at {v}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
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

/// The kinds received up to and including `marker`.
async fn kinds_until(ws: &mut Socket, marker: &str) -> Vec<String> {
    let mut kinds = Vec::new();
    loop {
        let m = next_message(ws).await;
        let kind = m["kind"].as_str().unwrap().to_owned();
        kinds.push(kind.clone());
        if kind == marker {
            return kinds;
        }
    }
}

/// Reads until the server's close frame: (text messages before it, code).
async fn read_until_close(ws: &mut Socket) -> (usize, Option<u16>) {
    let mut texts = 0;
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Text(_))) => texts += 1,
            Some(Ok(Message::Close(frame))) => return (texts, frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return (texts, None),
        }
    }
}

async fn routes_by_target_and_school(redis: String) {
    let gw = spawn_gw(redis, |_| {}).await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let (t1, t2, admin) = (
        caller(a, Role::Teacher),
        caller(a, Role::Teacher),
        caller(a, Role::Admin),
    );
    let other_school_teacher = caller(b, Role::Teacher);
    let mut ws_t1 = gw.connect(&t1).await;
    // The Authorization header works too (non-browser clients).
    let mut r = gw.ws_url().into_client_request().unwrap();
    r.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", gw.token(&t2))).unwrap(),
    );
    let (mut ws_t2, _) = tokio_tungstenite::connect_async(r).await.unwrap();
    let mut ws_admin = gw.connect(&admin).await;
    let mut ws_b = gw.connect(&other_school_teacher).await;

    gw.publish(a, Target::User(t1.user_id), "for.t1").await;
    gw.publish(a, Target::Role(Role::Admin), "for.admins").await;
    gw.publish(a, Target::Role(Role::Guardian), "for.guardians")
        .await;
    gw.publish(b, Target::School, "for.school.b").await;
    // School b's channel naming a user of school a: never crosses.
    gw.publish(b, Target::User(t1.user_id), "cross.school")
        .await;
    // An envelope on school a's channel that claims school b is dropped.
    let forged = json!({"id": Uuid::now_v7(), "school": b, "target": {"type": "school"},
        "kind": "forged", "payload": {}, "sent_at": "2026-01-01T00:00:00Z"});
    let n: u64 = fred::interfaces::PubsubInterface::spublish(
        &gw.publisher,
        realtime::channel(a),
        forged.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(n, 1, "the gateway is subscribed to school a");
    gw.publish(a, Target::School, "marker").await;
    gw.publish(b, Target::School, "marker").await;

    assert_eq!(
        kinds_until(&mut ws_t1, "marker").await,
        ["for.t1", "marker"]
    );
    assert_eq!(kinds_until(&mut ws_t2, "marker").await, ["marker"]);
    assert_eq!(
        kinds_until(&mut ws_admin, "marker").await,
        ["for.admins", "marker"]
    );
    assert_eq!(
        kinds_until(&mut ws_b, "marker").await,
        ["for.school.b", "marker"]
    );
    assert_eq!(
        gw.metric("websocket_messages_dropped_total{reason=\"invalid_envelope\"}")
            .await,
        1
    );
    assert_eq!(gw.metric("websocket_messages_sent_total").await, 7);

    // The envelope as clients see it.
    gw.publish(a, Target::User(t1.user_id), "shape").await;
    let m = next_message(&mut ws_t1).await;
    assert_eq!(m["kind"], "shape");
    assert_eq!(m["school"], a.to_string());
    assert_eq!(m["target"], json!({"type": "user", "user_id": t1.user_id}));
    assert_eq!(m["payload"], json!({"note": "shape"}));
    assert_eq!(
        Uuid::parse_str(m["id"].as_str().unwrap())
            .unwrap()
            .get_version_num(),
        7
    );
    assert!(m["sent_at"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<chrono::Utc>>()
        .is_ok());
}

#[tokio::test]
async fn routes_by_target_and_school_standalone() {
    routes_by_target_and_school(redis_url()).await;
}

#[tokio::test]
async fn routes_by_target_and_school_cluster() {
    routes_by_target_and_school(cluster_url()).await;
}

#[tokio::test]
async fn refuses_bad_tokens_and_foreign_origins_before_upgrading() {
    let gw = spawn_gw(redis_url(), |_| {}).await;
    let c = caller(Uuid::now_v7(), Role::Student);
    let token = gw.token(&c);

    let no_token = gw.ws_url().into_client_request().unwrap();
    assert_eq!(gw.refused(no_token).await, 401);
    assert_eq!(gw.refused(gw.request("not-a-jwt")).await, 401);
    let mut tampered = token.clone();
    tampered.pop();
    assert_eq!(gw.refused(gw.request(&tampered)).await, 401);
    let foreign = Tokens::new(&Config {
        jwt_secret: "another-secret-another-secret-another!".to_owned().into(),
        ..gw.config.clone()
    })
    .issue_unrecorded(&c)
    .unwrap();
    assert_eq!(gw.refused(gw.request(&foreign)).await, 401);
    // Never from the URL (it would land in access logs).
    let in_query = format!("{}?access_token={token}", gw.ws_url())
        .into_client_request()
        .unwrap();
    assert_eq!(gw.refused(in_query).await, 401);

    let mut evil = gw.request(&token);
    evil.headers_mut()
        .insert("origin", HeaderValue::from_static("https://evil.example"));
    assert_eq!(gw.refused(evil).await, 403);

    // A plain GET is not an upgrade: a problem, nothing subscribed.
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/ws", gw.instance.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "websocket_upgrade_required");
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/ws", gw.instance.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The subprotocol carries a token on the WebSocket route only.
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/auth/me", gw.instance.base))
        .header("upgrade", "websocket")
        .header("connection", "upgrade")
        .header("sec-websocket-protocol", format!("bearer, {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(gw.metric("websocket_connections").await, 0);

    // The allowed origin upgrades.
    let mut ok = gw.request(&token);
    ok.headers_mut()
        .insert("origin", HeaderValue::from_static(ALLOWED_ORIGIN));
    let (_ws, res) = tokio_tungstenite::connect_async(ok).await.unwrap();
    assert_eq!(res.status(), 101);
    assert_eq!(gw.metric("websocket_connections").await, 1);
}

#[tokio::test]
async fn client_frames_are_ignored_up_to_the_size_limit() {
    let gw = spawn_gw(redis_url(), |c| c.ws_max_client_frame_bytes = 1024).await;
    let c = caller(Uuid::now_v7(), Role::Teacher);
    let mut ws = gw.connect(&c).await;
    ws.send(Message::text("hello?")).await.unwrap();
    ws.send(Message::binary(vec![1u8; 1000])).await.unwrap();
    // Ignored, not answered: the next frame is the marker.
    gw.publish(c.school_id, Target::School, "marker").await;
    assert_eq!(kinds_until(&mut ws, "marker").await, ["marker"]);
    ws.send(Message::text("x".repeat(2000))).await.unwrap();
    assert_eq!(read_until_close(&mut ws).await, (0, Some(1009)));
    gw.wait_metric(
        "websocket_disconnects_total{reason=\"message_too_big\"}",
        |n| n == 1,
    )
    .await;
}

#[tokio::test]
async fn upgrades_spend_the_read_budget() {
    let gw = spawn_gw(redis_url(), |c| {
        c.rate_limit_read = "1/60s".parse().unwrap()
    })
    .await;
    let school = Uuid::now_v7();
    let (c, other) = (caller(school, Role::Teacher), caller(school, Role::Teacher));
    let _first = gw.connect(&c).await;
    // The budget is the user's (the subprotocol token counts), not the
    // client address's: another user from the same address still connects.
    let _other = gw.connect(&other).await;
    assert_eq!(gw.refused(gw.request(&gw.token(&c))).await, 429);
}

#[tokio::test]
async fn the_gauge_follows_open_sockets_standalone() {
    the_gauge_follows_open_sockets(redis_url()).await;
}

#[tokio::test]
async fn the_gauge_follows_open_sockets_cluster() {
    the_gauge_follows_open_sockets(cluster_url()).await;
}

/// Up and down with sockets, and the school's channel with them.
async fn the_gauge_follows_open_sockets(redis: String) {
    let gw = spawn_gw(redis, |_| {}).await;
    let school = Uuid::now_v7();
    let mut first = gw.connect(&caller(school, Role::Admin)).await;
    let second = gw.connect(&caller(school, Role::Guardian)).await;
    assert_eq!(gw.metric("websocket_connections").await, 2);

    first.close(None).await.unwrap();
    gw.wait_metric("websocket_connections", |n| n == 1).await;
    assert_eq!(
        gw.metric("websocket_disconnects_total{reason=\"client_closed\"}")
            .await,
        1
    );
    drop(second);
    gw.wait_metric("websocket_connections", |n| n == 0).await;
    assert_eq!(
        gw.metric("websocket_disconnects_total{reason=\"client_gone\"}")
            .await,
        1
    );
    // The last socket of the school left: its channel is unsubscribed.
    eventually("the school's channel to be unsubscribed", WAIT, || async {
        let n = realtime::publish(
            &gw.publisher,
            school,
            Target::School,
            Kind::try_from("probe").unwrap(),
            json!({}),
        )
        .await
        .unwrap()
        .receivers;
        n == 0
    })
    .await;
}

#[tokio::test]
async fn shutdown_sends_going_away() {
    let gw = spawn_gw(redis_url(), |_| {}).await;
    let mut ws = gw.connect(&caller(Uuid::now_v7(), Role::Teacher)).await;
    let Gw { instance, .. } = gw;
    // Dropping the instance resolves its shutdown future (as SIGTERM does).
    drop(instance);
    assert_eq!(read_until_close(&mut ws).await, (0, Some(1001)));
}

#[tokio::test]
async fn an_expired_token_closes_the_socket() {
    let gw = spawn_gw(redis_url(), |_| {}).await;
    let short = Tokens::new(&Config {
        jwt_ttl_secs: 1,
        ..gw.config.clone()
    });
    let c = caller(Uuid::now_v7(), Role::Student);
    let (mut ws, _) =
        tokio_tungstenite::connect_async(gw.request(&short.issue_unrecorded(&c).unwrap()))
            .await
            .unwrap();
    assert_eq!(read_until_close(&mut ws).await, (0, Some(4001)));
    gw.wait_metric(
        "websocket_disconnects_total{reason=\"token_expired\"}",
        |n| n == 1,
    )
    .await;
}

#[tokio::test]
async fn silent_clients_are_closed_and_answering_ones_stay() {
    let gw = spawn_gw(redis_url(), |c| {
        c.ws_ping_interval_secs = 1;
        c.ws_pong_timeout_secs = 1;
    })
    .await;
    let school = Uuid::now_v7();
    let mut silent = gw.connect(&caller(school, Role::Guardian)).await;
    let mut answering = gw.connect(&caller(school, Role::Teacher)).await;
    // The answering client reads (tungstenite answers each ping) past
    // several silence limits (ping interval + pong timeout = 2 s).
    let mut pings = 0;
    while pings < 4 {
        match tokio::time::timeout(WAIT, answering.next()).await.unwrap() {
            Some(Ok(Message::Ping(_))) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    gw.wait_metric(
        "websocket_disconnects_total{reason=\"heartbeat_timeout\"}",
        |n| n == 1,
    )
    .await;
    gw.publish(school, Target::School, "marker").await;
    assert_eq!(kinds_until(&mut answering, "marker").await, ["marker"]);
    let (texts, code) = read_until_close(&mut silent).await;
    assert_eq!((texts, code), (0, Some(4002)));
}

#[tokio::test]
async fn a_client_that_does_not_read_is_disconnected() {
    let gw = spawn_gw(redis_url(), |c| c.ws_send_queue = 4).await;
    let c = caller(Uuid::now_v7(), Role::Admin);
    // A small receive window so the server's writes back up quickly.
    let addr = gw.instance.base.trim_start_matches("http://").to_owned();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(addr.parse().unwrap()).await.unwrap();
    let (mut ws, _) =
        tokio_tungstenite::client_async(gw.request(&gw.token(&c)), MaybeTlsStream::Plain(tcp))
            .await
            .unwrap();
    let filler = "x".repeat(15_000);
    let mut published = 0;
    while gw
        .metric("websocket_disconnects_total{reason=\"slow_consumer\"}")
        .await
        == 0
    {
        assert!(published < 20_000, "never disconnected");
        for _ in 0..50 {
            realtime::publish(
                &gw.publisher,
                c.school_id,
                Target::User(c.user_id),
                Kind::try_from("bulk").unwrap(),
                json!({"filler": filler}),
            )
            .await
            .unwrap();
            published += 1;
        }
    }
    let (received, code) = read_until_close(&mut ws).await;
    assert_eq!(code, Some(1013));
    assert!(received < published, "{received} of {published}");
    gw.wait_metric("websocket_connections", |n| n == 0).await;
}

/// Redis goes away: readiness reports the subscriber as unavailable
/// (degraded, still 200), sockets stay open; Redis returns: the subscriber
/// re-subscribes its schools and messages flow again, no restart needed.
#[tokio::test]
async fn the_subscriber_recovers_from_a_redis_restart() {
    let mut redis = tokio::task::spawn_blocking(PrivateRedis::start)
        .await
        .unwrap()
        .unwrap();
    let url = redis.url();
    let gw = spawn_configured(|c| c.redis_url = url).await;
    let tokens = Tokens::new(&gw.config);
    let c = caller(Uuid::now_v7(), Role::Guardian);
    let mut request = format!("{}/api/v1/ws", gw.base.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&format!("bearer, {}", tokens.issue_unrecorded(&c).unwrap()))
            .unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();

    redis.kill();
    let readiness = || async {
        let r = gw.http.get(gw.url("/readyz")).send().await.unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = readiness().await;
        if body["realtime"] == "unavailable" {
            assert_eq!((status, body["status"].as_str()), (200, Some("degraded")));
            break;
        }
        assert!(Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut redis = tokio::task::spawn_blocking(move || {
        redis.restart().unwrap();
        redis
    })
    .await
    .unwrap();
    let publisher = platform::redis::client(
        &redis.url(),
        &RedisSettings {
            command_timeout: Duration::from_secs(2),
            ..Default::default()
        },
    )
    .unwrap();
    fred::interfaces::ClientLike::init(&publisher)
        .await
        .unwrap();
    eventually("the user's channel to be re-subscribed", WAIT, || async {
        let sent = realtime::publish(
            &publisher,
            c.school_id,
            Target::User(c.user_id),
            Kind::try_from("marker").unwrap(),
            json!({}),
        )
        .await
        .unwrap();
        sent.receivers == 1
    })
    .await;
    assert_eq!(kinds_until(&mut ws, "marker").await, ["marker"]);
    assert_eq!(readiness().await.1["realtime"], "ok");
    redis.kill();
}
