use clap::Parser;
use students_svc::{config::Config, startup::Application};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = platform::telemetry::init_service(config.log_format, "students-svc");
    let app = Application::build(&config).await?;
    app.run_until(platform::shutdown::signal()).await
}
