//! analytics-svc starts on a fresh database, migrates its own schema (only its
//! own) and reports SERVING on the standard health service.

use clap::Parser;

#[tokio::test]
async fn migrates_its_schema_and_serves_health() {
    let db = platform::testing::fresh_database().await.unwrap();
    let config = analytics_svc::Config::parse_from([
        "analytics-svc",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--database-url",
        &db.analytics_url,
    ]);
    let app = analytics_svc::build(&config).await.unwrap();
    platform::testing::assert_health_only(
        app,
        &db,
        &["analytics.processed_events", "analytics.schema_migrations"],
    )
    .await;
}
