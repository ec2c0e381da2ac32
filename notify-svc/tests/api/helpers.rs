//! Test support: a notify-svc on its own database, consuming a registry of
//! its own (so tests running beside it never share streams), and helpers
//! that publish real encoded events the way the relay does.

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use notify_svc::{config::Config, Application};
use platform::testing::{eventually, TestDatabase};
use proto::events::v1::{self as ev, event::Payload, Event};
use uuid::Uuid;

/// A channel that vouches for its callers (platform::trust), as the
/// gateway's do.
pub type Svc = platform::trust::Signed<tonic::transport::Channel>;

/// A lazily connecting channel to `addr` that vouches for its callers.
pub fn signed(addr: SocketAddr) -> Svc {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("a valid address")
        .connect_lazy();
    platform::trust::Signed::new(channel, platform::trust::TEST_KEY.parse().unwrap())
}

pub use platform::testing::bus::Bus;

pub const WAIT: Duration = Duration::from_secs(20);

/// Short timings so that reclaims and dead letters happen within a test.
pub fn test_config(db: &TestDatabase, bus: &Bus) -> Config {
    let mut c = Config::for_database(&db.notify_url);
    c.consumer_enabled = true;
    c.redis_url = bus.url.clone();
    c.events_registry = bus.registry.clone();
    c.consumer_name = Some(format!("test-{}", Uuid::new_v4().simple()));
    c.consumer_block_ms = 100;
    c.consumer_claim_idle_ms = 200;
    c.consumer_max_deliveries = 3;
    c.consumer_discover_ms = 50;
    c
}

pub struct TestApp {
    pub db: TestDatabase,
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(db: TestDatabase, config: &Config) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            platform::telemetry::init(platform::telemetry::LogFormat::Pretty);
        }
        let app = Application::build(config).await.expect("build notify-svc");
        let (addr, admin_addr) = (app.local_addr(), app.admin_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self {
            db,
            addr,
            admin_addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the server and its consumer; fails if either failed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT, task)
                .await
                .expect("stops in time")
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let c = platform::testing::connect(&self.db.admin_url)
            .await
            .unwrap();
        c.query_one(sql, &[]).await.unwrap().get(0)
    }

    pub async fn processed(&self) -> i64 {
        self.count("SELECT count(*) FROM notify.processed_events")
            .await
    }

    pub async fn wait_processed(&self, n: i64) {
        eventually(&format!("{n} events processed"), WAIT, || async {
            self.processed().await >= n
        })
        .await;
    }
}

/// A real event envelope around `payload`, as students-svc records it.
pub fn event(school: Uuid, event_type: &str, payload: Payload) -> Event {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    Event {
        event_id: Uuid::now_v7().to_string(),
        school_id: school.to_string(),
        aggregate_type: event_type.split('.').next().unwrap_or("").to_owned(),
        aggregate_id: Uuid::now_v7().to_string(),
        event_type: event_type.to_owned(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: now.as_secs() as i64,
            nanos: now.subsec_nanos() as i32,
        }),
        actor_user_id: String::new(),
        trace_context: HashMap::from([(
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        )]),
        payload: Some(payload),
    }
}

pub fn student_created(school: Uuid, student: Uuid, given: &str, family: &str) -> Event {
    event(
        school,
        "student.created",
        Payload::StudentCreated(ev::StudentChanged {
            student_id: student.to_string(),
            admission_no: format!("A-{}", &student.simple().to_string()[..8]),
            given_name: given.into(),
            family_name: family.into(),
            grade_level: 5,
            section: "A".into(),
            status: "active".into(),
            version: 1,
            archived: false,
        }),
    )
}

#[derive(Clone, Default)]
pub struct Prefs {
    pub phone: &'static str,
    pub email: &'static str,
    pub sms: bool,
    pub mail: bool,
    pub push: bool,
    pub user_id: Option<Uuid>,
    /// The preferred language; empty: the school's.
    pub lang: &'static str,
}

fn contact(p: &Prefs) -> ev::GuardianContact {
    ev::GuardianContact {
        phone: p.phone.into(),
        email: p.email.into(),
        notify_sms: p.sms,
        notify_email: p.mail,
        notify_push: p.push,
        user_id: p.user_id.map(|u| u.to_string()).unwrap_or_default(),
        language: p.lang.into(),
    }
}

pub fn guardian_created(school: Uuid, guardian: Uuid, given: &str, p: &Prefs) -> Event {
    event(
        school,
        "guardian.created",
        Payload::GuardianCreated(ev::GuardianChanged {
            guardian_id: guardian.to_string(),
            given_name: given.into(),
            family_name: "Parent".into(),
            relationship: "mother".into(),
            contact: Some(contact(p)),
            version: 1,
        }),
    )
}

pub fn link(school: Uuid, guardian: Uuid, student: Uuid, p: &Prefs, linked: bool) -> Event {
    link_version(school, guardian, student, p, linked, 0)
}

/// A link or unlink carrying the pair's link `version`.
pub fn link_version(
    school: Uuid,
    guardian: Uuid,
    student: Uuid,
    p: &Prefs,
    linked: bool,
    version: i64,
) -> Event {
    let l = ev::GuardianLinked {
        guardian_id: guardian.to_string(),
        student_id: student.to_string(),
        relationship: "mother".into(),
        is_primary: true,
        contact: Some(contact(p)),
        version,
    };
    if linked {
        event(school, "guardian.linked", Payload::GuardianLinked(l))
    } else {
        event(school, "guardian.unlinked", Payload::GuardianUnlinked(l))
    }
}

/// An attendance write: (student, effective status) for one session.
pub fn attendance(
    school: Uuid,
    course: Uuid,
    date: &str,
    period: u32,
    changes: &[(Uuid, &str)],
    overridden: bool,
) -> Event {
    let a = ev::AttendanceMarked {
        course_id: course.to_string(),
        date: date.into(),
        period,
        changes: changes
            .iter()
            .map(|(s, status)| ev::AttendanceChange {
                student_id: s.to_string(),
                effective_status: (*status).into(),
                revision: 1,
            })
            .collect(),
    };
    if overridden {
        event(
            school,
            "attendance.overridden",
            Payload::AttendanceOverridden(a),
        )
    } else {
        event(school, "attendance.marked", Payload::AttendanceMarked(a))
    }
}

/// A count read as the database admin.
pub async fn count(db: &TestDatabase, sql: &str) -> i64 {
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    c.query_one(sql, &[]).await.unwrap().get(0)
}
