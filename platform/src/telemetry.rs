//! Log set-up. Field names are dotted with units (`student.id`, `duration_ms`).

use tracing_subscriber::{fmt, EnvFilter};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for log shippers.
    #[default]
    Json,
    /// Human-readable, for a terminal.
    Pretty,
}

/// Installs the global subscriber; `RUST_LOG` overrides the default `info`.
/// Calling it twice is harmless (tests start many servers in one process).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_target(true);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
