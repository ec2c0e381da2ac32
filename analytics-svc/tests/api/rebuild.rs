//! Rebuild: one school's read models replaced by the export's, the same
//! apply code under the school's lock, while events keep being applied.

use std::time::Duration;

use analytics_svc::{domain::Thresholds, rebuild};
use futures::{stream::BoxStream, StreamExt};
use platform::testing::AssertCode;
use proto::{analytics::v1 as pb, events::v1::Event};
use uuid::Uuid;

use crate::helpers::{apply, as_operator, call, caller, dump, School, TestApp};
use platform::caller::Role;

/// A synthetic export: the given events, in batches of 7.
pub struct Synthetic(pub Vec<Event>);

impl rebuild::Source for Synthetic {
    async fn export(
        &self,
        _school: Uuid,
    ) -> Result<BoxStream<'static, Result<Vec<Event>, tonic::Status>>, tonic::Status> {
        let batches: Vec<Result<Vec<Event>, tonic::Status>> =
            self.0.chunks(7).map(|c| Ok(c.to_vec())).collect();
        Ok(futures::stream::iter(batches).boxed())
    }
}

pub async fn rebuild_from(
    pool: &deadpool_postgres::Pool,
    school: Uuid,
    events: Vec<Event>,
) -> rebuild::Rebuilt {
    rebuild::rebuild(pool, &Synthetic(events), school, &Thresholds::default())
        .await
        .unwrap()
}

/// [`rebuild_from`] writing attendance every `per_write` marks: the bulk
/// path's writes meet each other's marks (overrides across writes).
pub async fn rebuild_from_in_writes_of(
    pool: &deadpool_postgres::Pool,
    school: Uuid,
    events: Vec<Event>,
    per_write: usize,
) -> rebuild::Rebuilt {
    rebuild::rebuild_with(
        pool,
        &Synthetic(events),
        school,
        &Thresholds::default(),
        per_write,
    )
    .await
    .unwrap()
}

/// An export that waits for `release` before sending anything: the rebuild
/// holds the school's lock meanwhile.
struct Slow(Vec<Event>, tokio::sync::watch::Receiver<bool>);

impl rebuild::Source for Slow {
    async fn export(
        &self,
        _school: Uuid,
    ) -> Result<BoxStream<'static, Result<Vec<Event>, tonic::Status>>, tonic::Status> {
        let mut release = self.1.clone();
        let _ = release.wait_for(|r| *r).await;
        Ok(futures::stream::iter(vec![Ok(self.0.clone())]).boxed())
    }
}

#[tokio::test]
async fn an_event_applied_during_a_rebuild_is_not_lost() {
    let app = TestApp::quiet().await;
    let s = School::new();
    let (teacher, course, ann) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let base = vec![
        s.settings("tui", "UTC", 9, 1, 1),
        s.student(ann, "Lee", 5, "A", "active", 1),
        s.course(course, "MAT", teacher, 30, 1),
    ];
    app.apply(&base).await;
    let before = app.dump(s.id()).await;

    let (release, released) = tokio::sync::watch::channel(false);
    let pool = app.pool.clone();
    let export = base.clone();
    let school = s.id();
    let rebuilding = tokio::spawn(async move {
        rebuild::rebuild(
            &pool,
            &Slow(export, released),
            school,
            &Thresholds::default(),
        )
        .await
    });
    // Wait until the rebuild holds the school's lock (its export is open).
    platform::testing::eventually(
        "the rebuild to hold the lock",
        Duration::from_secs(10),
        || async {
            let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
            c.query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
                &[],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
                > 0
        },
    )
    .await;
    // A newer fact, committed after the export's snapshot: it waits for the
    // lock (longer than its pool's statement timeout: the lock wait has its
    // own), then applies on top of the rebuilt models.
    let newer = s.student(ann, "Lee", 6, "B", "active", 2);
    let short = platform::db::pool(
        &app.db.analytics_url,
        &platform::db::PoolSettings {
            statement_timeout: Duration::from_millis(300),
            ..Default::default()
        },
    )
    .unwrap();
    let applying = tokio::spawn(async move { apply(&short, &[newer]).await });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!applying.is_finished(), "the event waits for the rebuild");
    release.send(true).unwrap();
    let done = rebuilding.await.unwrap().unwrap();
    assert_eq!(done.events, 3);
    applying.await.unwrap();
    let after = app.dump(s.id()).await;
    assert_ne!(before, after);
    assert!(
        after
            .iter()
            .any(|r| r.starts_with("grade_sections:") && r.contains("\"grade_level\":6")),
        "{after:#?}"
    );
    assert!(!after
        .iter()
        .any(|r| r.starts_with("grade_sections:") && r.contains("\"grade_level\":5")));
    app.stop().await;
}

#[tokio::test]
async fn the_admin_rpc_resolves_slugs_and_refuses_unknown_schools() {
    let app = TestApp::quiet().await;
    let mut admin = app.admin().await;
    // Not the operator: a school's admin, vouched for; nobody at all.
    let someone = caller(Uuid::now_v7(), Uuid::now_v7(), Role::Admin);
    admin
        .rebuild_school(call(
            &someone,
            pb::RebuildSchoolRequest {
                school: "no-such-school".into(),
            },
        ))
        .await
        .assert_code(tonic::Code::PermissionDenied);
    pb::analytics_admin_service_client::AnalyticsAdminServiceClient::new(app.channel().await)
        .rebuild_school(as_operator(pb::RebuildSchoolRequest {
            school: "no-such-school".into(),
        }))
        .await
        .assert_code(tonic::Code::Unauthenticated);
    admin
        .rebuild_school(as_operator(pb::RebuildSchoolRequest {
            school: "no-such-school".into(),
        }))
        .await
        .assert_code(tonic::Code::NotFound);
    admin
        .rebuild_school(as_operator(pb::RebuildSchoolRequest {
            school: String::new(),
        }))
        .await
        .assert_code(tonic::Code::InvalidArgument);
    // A known slug resolves; students-svc is not running here, so the
    // export is UNAVAILABLE, and nothing of the school was removed.
    let s = School::new();
    app.apply(&[
        s.settings("ruru", "UTC", 9, 1, 1),
        s.student(Uuid::now_v7(), "Ng", 1, "A", "active", 1),
    ])
    .await;
    let before = dump(&app.db, s.id()).await;
    admin
        .rebuild_school(as_operator(pb::RebuildSchoolRequest {
            school: "ruru".into(),
        }))
        .await
        .assert_code(tonic::Code::Unavailable);
    assert_eq!(dump(&app.db, s.id()).await, before);
    app.stop().await;
}

/// Scale probe (ignored; run with `--ignored`): a 2,500-student school with
/// 100 courses of 25 and 60 school days of one session each (150,000 marks),
/// rebuilt from a synthetic export. Prints the time.
#[tokio::test]
#[ignore]
async fn rebuild_time_of_a_school_with_a_term_of_attendance() {
    let db = platform::testing::fresh_database().await.unwrap();
    if let Ok(ms) = std::env::var("LOG_SLOWER_THAN_MS") {
        platform::testing::connect(&db.admin_url)
            .await
            .unwrap()
            .batch_execute(&format!(
                "ALTER DATABASE {} SET log_min_duration_statement = {ms}",
                db.name
            ))
            .await
            .unwrap();
    }
    let days: i64 = std::env::var("DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(60);
    platform::db::migrate(
        &db.analytics_url,
        &Default::default(),
        analytics_svc::MIGRATIONS,
    )
    .await
    .unwrap();
    let pool = platform::db::pool(&db.analytics_url, &Default::default()).unwrap();
    let s = School::new();
    let mut events = vec![s.settings("big", "UTC", 9, 1, 1)];
    let students: Vec<Uuid> = (0..2500).map(|_| Uuid::now_v7()).collect();
    for (i, st) in students.iter().enumerate() {
        events.push(s.student(*st, &format!("F{i}"), (i % 12) as i32, "A", "active", 1));
    }
    let courses: Vec<Uuid> = (0..100).map(|_| Uuid::now_v7()).collect();
    for (c, course) in courses.iter().enumerate() {
        events.push(s.course(*course, &format!("C{c}"), Uuid::now_v7(), 30, 1));
        for st in &students[c * 25..(c + 1) * 25] {
            events.push(s.enrol(Uuid::now_v7(), *course, *st, false));
        }
    }
    let first = chrono::NaiveDate::from_ymd_opt(2030, 1, 6).unwrap();
    for d in 0..days {
        let date = (first + chrono::Duration::days(d))
            .format("%Y-%m-%d")
            .to_string();
        for (c, course) in courses.iter().enumerate() {
            let marks: Vec<(Uuid, &str, i32)> = students[c * 25..(c + 1) * 25]
                .iter()
                .enumerate()
                .map(|(k, st)| {
                    (
                        *st,
                        if (k + d as usize).is_multiple_of(9) {
                            "absent"
                        } else {
                            "present"
                        },
                        1,
                    )
                })
                .collect();
            events.push(s.mark(*course, &date, 1, &marks));
        }
    }
    let n = events.len();
    let done = rebuild_from(&pool, s.id(), events).await;
    println!(
        "rebuilt {n} events ({} applied) in {} ms",
        done.events, done.elapsed_ms
    );
}
