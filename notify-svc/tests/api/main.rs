//! notify-svc starts on a fresh database, migrates its own schema (only its
//! own) and reports SERVING on the standard health service.

mod config;
mod helpers;
mod jobs;
mod provider;
mod sms_client;

use clap::Parser;

#[tokio::test]
async fn migrates_its_schema_and_serves_health() {
    let db = platform::testing::fresh_database().await.unwrap();
    let config = notify_svc::Config::parse_from([
        "notify-svc",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--database-url",
        &db.notify_url,
    ]);
    let app = notify_svc::build(&config).await.unwrap();
    platform::testing::assert_health_only(
        app,
        &db,
        &[
            "notify.jobs",
            "notify.processed_events",
            "notify.schema_migrations",
        ],
    )
    .await;
}
