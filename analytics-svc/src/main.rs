use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = analytics_svc::Config::parse();
    let _telemetry = platform::telemetry::init_service(config.log_format, "analytics-svc");
    analytics_svc::build(&config)
        .await?
        .run_until(platform::shutdown::signal())
        .await
}
