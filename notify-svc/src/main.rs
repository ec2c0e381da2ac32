use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = notify_svc::Config::parse();
    let _telemetry = platform::telemetry::init_service(config.log_format, "notify-svc");
    notify_svc::Application::build(&config)
        .await?
        .run_until(platform::shutdown::signal())
        .await
}
