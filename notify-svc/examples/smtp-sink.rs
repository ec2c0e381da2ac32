//! The local SMTP sink `make run` starts: accepts every mail on a local port
//! and writes it as an `.eml` file, so notify-svc's e-mails can be read
//! without a real relay (`NOTIFY_SMTP_SECURITY=none`). Not for production.
//!
//! ```text
//! cargo run -p notify-svc --example smtp-sink -- 127.0.0.1:2525 .stack/run/mail
//! ```

use std::{net::SocketAddr, path::PathBuf};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init(platform::telemetry::LogFormat::Pretty);
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:2525".to_owned())
        .parse()?;
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "mail".to_owned()));
    let sink = platform::testing::smtp::SmtpServer::bind(addr, Some(dir.clone())).await?;
    tracing::info!(smtp.addr = %sink.addr(), mail.dir = %dir.display(), "SMTP sink listening");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
