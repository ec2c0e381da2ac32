use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = analytics_svc::Cli::parse();
    let config = cli.config;
    let _telemetry = platform::telemetry::init_service(config.log_format, "analytics-svc");
    match cli.command {
        None | Some(analytics_svc::Command::Serve) => {
            analytics_svc::Application::build(&config)
                .await?
                .run_until(platform::shutdown::signal())
                .await
        }
        Some(analytics_svc::Command::Rebuild { school }) => rebuild(&config, &school).await,
    }
}

/// `analytics-svc rebuild --school <slug|id>`: one school, then exit.
async fn rebuild(config: &analytics_svc::Config, school: &str) -> anyhow::Result<()> {
    use analytics_svc::rebuild;
    let settings = config.pool_settings();
    platform::db::migrate(config.database_url(), &settings, analytics_svc::MIGRATIONS).await?;
    let pool = platform::db::pool(config.database_url(), &settings)?;
    let export = rebuild::export::StudentsExport::new(
        &config.students_url,
        std::time::Duration::from_millis(config.export_timeout_ms),
        config.service_auth_key.clone(),
        config.grpc_tls.client()?.as_ref(),
    )?;
    let id = rebuild::resolve(&pool, school)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let done = rebuild::rebuild(&pool, &export, id, &config.thresholds())
        .await
        .map_err(|e| anyhow::anyhow!("rebuild failed: {e}"))?;
    if config.cache_bump {
        let redis = platform::redis::connect(&config.redis_url, &config.redis_settings())?;
        fred::prelude::ClientLike::wait_for_connect(&redis).await?;
        analytics_svc::handler::bump(&redis, id).await;
    }
    println!(
        "rebuilt school {} from {} events in {} ms",
        done.school, done.events, done.elapsed_ms
    );
    Ok(())
}
