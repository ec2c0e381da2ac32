//! analytics-svc starts on a fresh database, migrates its own schema (only
//! its own), reports both services SERVING by name and serves metrics.

use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

use crate::helpers::TestApp;

#[tokio::test]
async fn migrates_its_schema_and_serves_health_for_both_services() {
    let app = TestApp::quiet().await;
    let mut health = HealthClient::new(app.channel().await);
    for service in [
        "",
        "school.analytics.v1.AnalyticsService",
        "school.analytics.v1.AnalyticsAdminService",
    ] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service:?}");
    }
    let text = platform::testing::scrape(app.admin_addr).await.unwrap();
    assert!(
        text.contains("db_pool_connections{state=\"max\"}"),
        "{text}"
    );

    let admin = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let schemas: Vec<String> = admin
        .query(
            "SELECT DISTINCT table_schema FROM information_schema.tables \
             WHERE table_schema IN ('students', 'analytics', 'notify') ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(schemas, ["analytics"]);
    assert_eq!(app.db.count("analytics.schema_migrations").await, 3);
    app.stop().await;
}
