use clap::Parser;
use gateway::{config::Config, startup::Application};

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    platform::telemetry::init(config.log_format);
    Application::build(config)?
        .run_until(platform::shutdown::signal())
        .await
}
