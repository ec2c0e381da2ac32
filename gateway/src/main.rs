use clap::Parser;
use gateway::{config::Config, startup::Application};

/// The gateway allocates per request (headers, keys, futures); glibc's malloc
/// cost ~20% of its CPU on the cached read path (perf, see bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = platform::telemetry::init_service(config.log_format, "gateway");
    Application::build(config)?
        .run_until(platform::shutdown::signal())
        .await
}
