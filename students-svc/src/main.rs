use clap::Parser;
use students_svc::{config::Config, startup::Application};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    platform::telemetry::init(config.log_format);
    let app = Application::build(&config).await?;
    app.run_until(platform::shutdown::signal()).await
}
