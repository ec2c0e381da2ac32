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
