use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = notify_svc::Config::parse();
    platform::telemetry::init(config.log_format);
    notify_svc::build(&config)
        .await?
        .run_until(platform::shutdown::signal())
        .await
}
