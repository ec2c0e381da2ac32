//! notify-svc starts on a fresh database, migrates its own schema (only its
//! own), reports SERVING on the standard health service and serves metrics.

use notify_svc::{config::Config, Application};
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

use crate::helpers::TestApp;

#[tokio::test]
async fn migrates_its_schema_and_serves_health() {
    let db = platform::testing::fresh_database().await.unwrap();
    let config = Config::for_database(&db.notify_url);
    let app = TestApp::spawn(db.clone(), &config).await;

    let channel = tonic::transport::Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    // The server as a whole, and the service by its full name (as grpc
    // health probes and balancing clients ask).
    for service in ["", "school.notify.v1.NotificationService"] {
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
    let unknown = health
        .check(HealthCheckRequest {
            service: "school.notify.v1.Nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    let text = platform::testing::scrape(app.admin_addr).await.unwrap();
    assert!(
        text.contains("db_pool_connections{state=\"max\"}"),
        "{text}"
    );

    let admin = platform::testing::connect(&db.admin_url).await.unwrap();
    let tables: Vec<String> = admin
        .query(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables \
             WHERE table_schema IN ('students', 'analytics', 'notify') ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        tables,
        [
            "notify.announcement_quota",
            "notify.announcements",
            "notify.courses",
            "notify.enrolments",
            "notify.guardian_students",
            "notify.guardians",
            "notify.invoices",
            "notify.jobs",
            "notify.notification_templates",
            "notify.notifications",
            "notify.processed_events",
            "notify.report_card_batches",
            "notify.report_card_pdfs",
            "notify.report_cards",
            "notify.schema_migrations",
            "notify.schools",
            "notify.students",
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_second_start_on_a_migrated_database_is_a_no_op() {
    let db = platform::testing::fresh_database().await.unwrap();
    let config = Config::for_database(&db.notify_url);
    drop(Application::build(&config).await.unwrap());
    let app = Application::build(&config).await.unwrap();
    drop(app);
    let admin = platform::testing::connect(&db.admin_url).await.unwrap();
    let versions: i64 = admin
        .query_one("SELECT count(*) FROM notify.schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(versions, notify_svc::MIGRATIONS.len() as i64);
}
