//! notify-svc starts on a fresh database, migrates its own schema (only its
//! own) and reports SERVING on the standard health service.

use clap::Parser;
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

#[tokio::test]
async fn migrates_its_schema_and_serves_health() {
    let db = platform::testing::fresh_database().await.unwrap();
    let config = notify_svc::Config::parse_from([
        "notify-svc",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &db.notify_url,
    ]);
    let app = notify_svc::Application::build(&config).await.unwrap();
    let addr = app.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let status = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);

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
        ["notify.processed_events", "notify.schema_migrations"]
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
