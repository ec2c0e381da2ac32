//! Test support: an analytics-svc on its own database (consumer off unless
//! a test gives it a bus), a fixed clock, event builders that make the
//! events students-svc records, direct application of events through the
//! projection (no Redis), a dump of one school's read models for
//! equality, and gRPC clients carrying a caller.

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use analytics_svc::{domain::Clock, projection, Application, Config};
use chrono::{DateTime, Utc};
use fred::prelude::*;
use platform::trust::{ServiceKey, Signed};
use platform::{
    caller::{Caller, Role},
    testing::TestDatabase,
};
use proto::{
    analytics::v1::{
        analytics_admin_service_client::AnalyticsAdminServiceClient,
        analytics_service_client::AnalyticsServiceClient,
    },
    events::v1::{self as ev, event::Payload, Event},
};
use tonic::transport::Channel;

pub fn test_key() -> ServiceKey {
    platform::trust::TEST_KEY.parse().unwrap()
}

/// A request the operator makes (a rebuild).
pub fn as_operator<T>(msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    platform::trust::as_operator(&mut req);
    req
}
use uuid::Uuid;

pub use platform::testing::bus::Bus;

pub const WAIT: Duration = Duration::from_secs(20);

/// The instant every test's "now" is: a Tuesday evening in UTC, already
/// Wednesday in Auckland.
pub fn now() -> DateTime<Utc> {
    "2030-03-12T20:00:00Z".parse().unwrap()
}

// ---------------------------------------------------------------- the app

/// The school's dashboard cache generation, as analytics-svc bumps it.
pub async fn generation(bus: &Bus, school: Uuid) -> Option<i64> {
    bus.client
        .get(platform::cache::dashboards_generation(school))
        .await
        .unwrap()
}

/// Defaults, port 0, consumer off, no cache bumps.
pub fn config(db: &TestDatabase) -> Config {
    let mut c = Config::for_database(&db.analytics_url);
    c.cache_bump = false;
    // Nothing listens there: a rebuild's export fails at once.
    c.students_url = "http://127.0.0.1:9".into();
    c
}

/// Consuming `bus` with short timings, bumping generations on its Redis.
pub fn consuming(db: &TestDatabase, bus: &Bus) -> Config {
    let mut c = Config::for_database(&db.analytics_url);
    c.consumer_enabled = true;
    c.cache_bump = true;
    c.redis_url = bus.url.clone();
    c.events_registry = bus.registry.clone();
    c.consumer_name = Some(format!("test-{}", Uuid::new_v4().simple()));
    c.consumer_block_ms = 100;
    c.consumer_claim_idle_ms = 300;
    c.consumer_max_deliveries = 2;
    c.consumer_discover_ms = 50;
    c
}

pub struct TestApp {
    pub db: TestDatabase,
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub pool: deadpool_postgres::Pool,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(db: TestDatabase, config: &Config) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            platform::telemetry::init(platform::telemetry::LogFormat::Pretty);
        }
        let app = Application::build_with_clock(config, Clock::fixed(now()))
            .await
            .expect("build analytics-svc");
        let (addr, admin_addr) = (app.local_addr(), app.admin_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let pool =
            platform::db::pool(&db.analytics_url, &platform::db::PoolSettings::default()).unwrap();
        Self {
            db,
            addr,
            admin_addr,
            pool,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// An app with the consumer off, for tests that apply events directly.
    pub async fn quiet() -> Self {
        let db = platform::testing::fresh_database().await.unwrap();
        let c = config(&db);
        Self::spawn(db, &c).await
    }

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

    /// A channel that vouches for nobody (platform::trust).
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// A channel that vouches for its callers, as the gateway's do.
    pub async fn signed(&self) -> Signed<Channel> {
        Signed::new(self.channel().await, test_key())
    }

    pub async fn client(&self) -> AnalyticsServiceClient<Signed<Channel>> {
        AnalyticsServiceClient::new(self.signed().await)
    }

    pub async fn admin(&self) -> AnalyticsAdminServiceClient<Signed<Channel>> {
        AnalyticsAdminServiceClient::new(self.signed().await)
    }

    pub async fn apply(&self, events: &[Event]) {
        apply(&self.pool, events).await;
    }

    pub async fn dump(&self, school: Uuid) -> Vec<String> {
        dump(&self.db, school).await
    }
}

/// A request carrying `caller` as the gateway writes it.
pub fn call<T>(caller: &Caller, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    caller.write(req.metadata_mut());
    req
}

pub fn caller(school: Uuid, user: Uuid, role: Role) -> Caller {
    Caller {
        school_id: school,
        user_id: user,
        role,
        student_id: None,
    }
}

/// Applies each event in a transaction of its own through the projection,
/// as the consumer's handler does (without the inbox, so a duplicate
/// reaches the projection's own guards).
pub async fn apply(pool: &deadpool_postgres::Pool, events: &[Event]) {
    let t = analytics_svc::domain::Risk::default();
    for e in events {
        let mut client = pool.get().await.unwrap();
        let tx = client.transaction().await.unwrap();
        let school: Uuid = e.school_id.parse().unwrap();
        projection::apply(&tx, school, e, &t)
            .await
            .unwrap_or_else(|err| panic!("{} failed: {err:#}", e.event_type));
        tx.commit().await.unwrap();
    }
}

/// One school's read models as sorted JSON rows per table. Rows whose
/// counters are all zero are left out: whether a counter row that went to
/// zero still exists depends on the order events came in, its value does not.
pub async fn dump(db: &TestDatabase, school: Uuid) -> Vec<String> {
    let tables: &[(&str, &str)] = &[
        ("schools", "true"),
        ("students", "true"),
        ("grade_sections", "students <> 0"),
        ("users", "true"),
        ("guardians", "true"),
        ("guardian_links", "true"),
        ("courses", "true"),
        ("timetable_slots", "true"),
        ("weekday_slots", "true"),
        ("enrolments", "true"),
        ("attendance", "true"),
        ("sessions", "true"),
        ("days", "true"),
        ("course_days", "true"),
        ("student_days", "true"),
        (
            "student_recent",
            "present + absent + late + excused + absent_run <> 0",
        ),
        ("assessments", "true"),
        ("grades", "true"),
        ("course_grades", "grades <> 0 OR pct_sum <> 0"),
        ("student_courses", "true"),
        ("invoices", "true"),
        ("payments", "true"),
        (
            "fees_months",
            "billed <> 0 OR collected <> 0 OR outstanding <> 0",
        ),
        ("open_due", "invoices <> 0"),
        ("at_risk", "true"),
    ];
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let mut out = Vec::new();
    for (table, filter) in tables {
        let rows = c
            .query(
                &format!(
                    "SELECT row_to_json(t)::text FROM analytics.{table} t \
                     WHERE school_id = $1 AND ({filter}) ORDER BY 1"
                ),
                &[&school],
            )
            .await
            .unwrap();
        for r in rows {
            out.push(format!("{table}: {}", r.get::<_, String>(0)));
        }
    }
    out
}

// ---------------------------------------------------------------- events

/// Builds one school's events as students-svc records them.
#[derive(Clone, Copy, Debug)]
pub struct School(pub Uuid);

fn ts(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

impl School {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn id(&self) -> Uuid {
        self.0
    }

    pub fn event(&self, event_type: &str, payload: Payload) -> Event {
        Event {
            event_id: Uuid::now_v7().to_string(),
            school_id: self.0.to_string(),
            aggregate_type: event_type.split('.').next().unwrap_or("").to_owned(),
            aggregate_id: Uuid::now_v7().to_string(),
            event_type: event_type.to_owned(),
            occurred_at: Some(ts(Utc::now())),
            actor_user_id: String::new(),
            trace_context: HashMap::new(),
            payload: Some(payload),
        }
    }

    pub fn settings(&self, slug: &str, zone: &str, month: u32, day: u32, version: i64) -> Event {
        self.event(
            "school.created",
            Payload::SchoolCreated(ev::SchoolChanged {
                name: slug.to_uppercase(),
                slug: slug.into(),
                time_zone: zone.into(),
                year_start_month: month,
                year_start_day: day,
                version,
            }),
        )
    }

    pub fn user(&self, user: Uuid, role: &str) -> Event {
        self.event(
            "user.created",
            Payload::UserCreated(ev::UserCreated {
                user_id: user.to_string(),
                role: role.into(),
                full_name: "Someone".into(),
            }),
        )
    }

    pub fn student(
        &self,
        s: Uuid,
        family: &str,
        grade: i32,
        section: &str,
        status: &str,
        version: i64,
    ) -> Event {
        self.event(
            if version == 1 {
                "student.created"
            } else {
                "student.updated"
            },
            Payload::StudentUpdated(ev::StudentChanged {
                student_id: s.to_string(),
                admission_no: format!("A-{}", &s.simple().to_string()[..8]),
                given_name: "Kid".into(),
                family_name: family.into(),
                grade_level: grade,
                section: section.into(),
                status: status.into(),
                version,
                archived: false,
            }),
        )
    }

    pub fn course(&self, c: Uuid, code: &str, teacher: Uuid, capacity: i32, version: i64) -> Event {
        self.event(
            "course.updated",
            Payload::CourseUpdated(ev::CourseChanged {
                course_id: c.to_string(),
                code: code.into(),
                name: format!("Course {code}"),
                term: "2030-T1".into(),
                teacher_id: teacher.to_string(),
                capacity,
                version,
            }),
        )
    }

    pub fn slot(&self, course: Uuid, weekday: i32, start: &str) -> Event {
        self.event(
            "course.timetable_slot_added",
            Payload::TimetableSlotAdded(ev::TimetableSlotAdded {
                slot_id: Uuid::now_v7().to_string(),
                course_id: course.to_string(),
                weekday,
                start: start.into(),
                end: "23:59".into(),
                room: "R1".into(),
            }),
        )
    }

    pub fn enrol(&self, enrolment: Uuid, course: Uuid, student: Uuid, withdrawn: bool) -> Event {
        let e = ev::EnrolmentChanged {
            enrolment_id: enrolment.to_string(),
            course_id: course.to_string(),
            student_id: student.to_string(),
            withdrawn,
            version: if withdrawn { 2 } else { 1 },
        };
        if withdrawn {
            self.event("enrolment.withdrawn", Payload::EnrolmentWithdrawn(e))
        } else {
            self.event("enrolment.created", Payload::EnrolmentCreated(e))
        }
    }

    /// One session's changes: (student, status, revision).
    pub fn mark(
        &self,
        course: Uuid,
        date: &str,
        period: u32,
        changes: &[(Uuid, &str, i32)],
    ) -> Event {
        self.event(
            "attendance.marked",
            Payload::AttendanceMarked(ev::AttendanceMarked {
                course_id: course.to_string(),
                date: date.into(),
                period,
                changes: changes
                    .iter()
                    .map(|(s, status, revision)| ev::AttendanceChange {
                        student_id: s.to_string(),
                        effective_status: (*status).into(),
                        revision: *revision,
                    })
                    .collect(),
            }),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub fn assessment(
        &self,
        a: Uuid,
        course: Uuid,
        max: i32,
        weight: i32,
        due: &str,
        published: bool,
        version: i64,
    ) -> Event {
        self.event(
            "assessment.updated",
            Payload::AssessmentUpdated(ev::AssessmentChanged {
                assessment_id: a.to_string(),
                course_id: course.to_string(),
                title: "Quiz".into(),
                max_score: max,
                weight,
                due_date: due.into(),
                published,
                version,
            }),
        )
    }

    /// Scores: (student, score in hundredths, revision).
    pub fn grades(
        &self,
        a: Uuid,
        course: Uuid,
        max: i32,
        published: bool,
        scores: &[(Uuid, i32, i32)],
    ) -> Event {
        let changes = scores
            .iter()
            .map(|(s, score, revision)| ev::StudentScore {
                student_id: s.to_string(),
                score: *score,
                revision: *revision,
            })
            .collect();
        let g = ev::GradesChanged {
            course_id: course.to_string(),
            assessment_id: a.to_string(),
            title: "Quiz".into(),
            max_score: max,
            published,
            changes,
        };
        if published {
            self.event("grades.updated", Payload::GradesUpdated(g))
        } else {
            self.event("grades.drafted", Payload::GradesDrafted(g))
        }
    }

    pub fn publish(&self, a: Uuid, course: Uuid, max: i32, scores: &[(Uuid, i32, i32)]) -> Event {
        self.event(
            "grades.published",
            Payload::GradesPublished(ev::GradesPublished {
                course_id: course.to_string(),
                assessment_id: a.to_string(),
                title: "Quiz".into(),
                max_score: max,
                scores: scores
                    .iter()
                    .map(|(s, score, revision)| ev::StudentScore {
                        student_id: s.to_string(),
                        score: *score,
                        revision: *revision,
                    })
                    .collect(),
                ..Default::default()
            }),
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub fn invoice(
        &self,
        i: Uuid,
        student: Uuid,
        total: i64,
        paid: i64,
        status: &str,
        issued: &str,
        due: &str,
        version: i64,
    ) -> Event {
        let snapshot = ev::InvoiceChanged {
            invoice_id: i.to_string(),
            student_id: student.to_string(),
            currency: "NZD".into(),
            total,
            amount_paid: paid,
            amount_due: total - paid,
            status: status.into(),
            issued_on: issued.into(),
            due_on: due.into(),
            version,
        };
        match status {
            "draft" => self.event("invoice.drafted", Payload::InvoiceDrafted(snapshot)),
            "void" => self.event("invoice.voided", Payload::InvoiceVoided(snapshot)),
            _ => self.event("invoice.issued", Payload::InvoiceIssued(snapshot)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn payment(
        &self,
        p: Uuid,
        i: Uuid,
        student: Uuid,
        amount: i64,
        total: i64,
        paid_after: i64,
        version: i64,
        at: DateTime<Utc>,
    ) -> Event {
        self.event(
            "invoice.payment_recorded",
            Payload::PaymentRecorded(ev::PaymentRecorded {
                payment_id: p.to_string(),
                invoice_id: i.to_string(),
                student_id: student.to_string(),
                amount,
                currency: "NZD".into(),
                method: "cash".into(),
                reference: String::new(),
                invoice_total: total,
                invoice_amount_paid: paid_after,
                invoice_amount_due: total - paid_after,
                invoice_status: if paid_after >= total {
                    "paid".into()
                } else {
                    "partially_paid".into()
                },
                invoice_version: version,
                recorded_at: Some(ts(at)),
            }),
        )
    }

    pub fn guardian(&self, g: Uuid, login: Uuid, version: i64) -> Event {
        self.event(
            "guardian.updated",
            Payload::GuardianUpdated(ev::GuardianChanged {
                guardian_id: g.to_string(),
                given_name: "Gina".into(),
                family_name: "Parent".into(),
                relationship: "mother".into(),
                contact: Some(ev::GuardianContact {
                    user_id: login.to_string(),
                    ..Default::default()
                }),
                version,
            }),
        )
    }

    pub fn link(&self, g: Uuid, login: Uuid, student: Uuid, linked: bool, version: i64) -> Event {
        let l = ev::GuardianLinked {
            guardian_id: g.to_string(),
            student_id: student.to_string(),
            relationship: "mother".into(),
            is_primary: true,
            contact: Some(ev::GuardianContact {
                user_id: login.to_string(),
                ..Default::default()
            }),
            version,
        };
        if linked {
            self.event("guardian.linked", Payload::GuardianLinked(l))
        } else {
            self.event("guardian.unlinked", Payload::GuardianUnlinked(l))
        }
    }
}
