use platform::db::{migrate, PoolSettings};
use students_svc::startup::MIGRATIONS;

use crate::helpers::*;

#[tokio::test]
async fn students_role_cannot_read_other_services_schemas() {
    let app = spawn_app().await;
    let c = platform::testing::connect(&app.db.students_url)
        .await
        .unwrap();
    for schema in ["analytics", "notify"] {
        let err = c
            .query(&format!("SELECT * FROM {schema}.processed_events"), &[])
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{schema}: {err}"
        );
    }
    let err = c
        .batch_execute("CREATE TABLE public.sneaky (id int)")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
    );
    // Its own schema is where its tables live.
    let own: i64 = c
        .query_one("SELECT count(*) FROM students.schools", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(own, 0);
}

#[tokio::test]
async fn concurrent_migrations_apply_once() {
    let app = spawn_app().await;
    let settings = PoolSettings::default();
    let runs = (0..4).map(|_| migrate(&app.db.students_url, &settings, MIGRATIONS));
    for r in futures::future::join_all(runs).await {
        r.unwrap();
    }
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM students.schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, MIGRATIONS.len() as i64);
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    let app = spawn_app().await;
    let edited = [platform::db::Migration {
        sql: "SELECT 1",
        ..MIGRATIONS[0]
    }];
    let err = migrate(&app.db.students_url, &PoolSettings::default(), &edited)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("edited"), "{err}");
}

#[tokio::test]
async fn migrations_out_of_version_order_are_refused() {
    let app = spawn_app().await;
    let reordered = [MIGRATIONS[1], MIGRATIONS[0]];
    let err = migrate(&app.db.students_url, &PoolSettings::default(), &reordered)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ascending"), "{err}");
}

/// A saturated pool and a statement over its timeout both answer
/// UNAVAILABLE (retryable), never hang and never leak SQL.
#[tokio::test]
async fn pool_exhaustion_and_statement_timeouts_are_unavailable() {
    use platform::testing::eventually;
    use proto::students::v1 as pb;
    use std::time::Duration;

    let app = spawn_app_with(|c| {
        c.db_pool_size = 1;
        c.db_wait_timeout_ms = 100;
        c.db_statement_timeout_ms = 1500;
    })
    .await;
    let admin = app.school("north").await;
    let s = app
        .create_student(&admin, student("A-1", "Ada", "Ng"))
        .await;

    // Hold a lock the read needs, so the pool's only connection stays busy.
    let mut locker = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let tx = locker.transaction().await.unwrap();
    tx.batch_execute("LOCK TABLE students.students IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    let get = |id: String| {
        let mut c = app.students();
        async move {
            c.get_student(with_caller(&admin, pb::GetStudentRequest { id }))
                .await
        }
    };
    let blocked = tokio::spawn(get(s.id.clone()));
    let watcher = platform::testing::connect(&app.db.admin_url).await.unwrap();
    eventually("the read to block", Duration::from_secs(10), || async {
        let waiting: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 \
                 AND usename = 'students_svc' AND wait_event_type = 'Lock'",
                &[&app.db.name],
            )
            .await
            .unwrap()
            .get(0);
        waiting == 1
    })
    .await;

    let starved = get(s.id.clone()).await.unwrap_err();
    assert_eq!(starved.code(), tonic::Code::Unavailable);
    let timed_out = blocked.await.unwrap().unwrap_err();
    assert_eq!(timed_out.code(), tonic::Code::Unavailable);
    assert!(!timed_out.message().contains("statement"));
    tx.rollback().await.unwrap();

    // The pool recovers once the lock is gone.
    assert!(get(s.id.clone()).await.is_ok());

    // Both show on the admin listener (the recorder is per process: other
    // tests add to the counters, never take away).
    let text = platform::testing::scrape(app.admin).await.unwrap();
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} missing in {text}"))
    };
    assert!(value("db_pool_timeouts_total ") >= 1.0);
    assert!(
        value("grpc_server_requests_total{service=\"school.students.v1.StudentService\",method=\"GetStudent\",code=\"UNAVAILABLE\"} ")
            >= 2.0
    );
    assert!(value("db_pool_connections{state=\"max\"} ") >= 1.0);
}
