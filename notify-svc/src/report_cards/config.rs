//! The report cards' settings.

use std::time::Duration;

/// Where the student summaries come from, and how many cards render at
/// once.
#[derive(clap::Args, Debug, Clone)]
pub struct ReportCardsConfig {
    /// analytics-svc (the student summary a card is rendered from):
    /// `http://host:port`.
    #[arg(
        long = "analytics-url",
        env = "ANALYTICS_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub analytics_url: String,
    /// Deadline of one summary call; a timeout is retried by the queue.
    #[arg(long = "analytics-timeout-ms", env = "NOTIFY_ANALYTICS_TIMEOUT_MS",
          default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub analytics_timeout_ms: u64,
    /// PDFs rendered at the same time in this replica (rendering is CPU
    /// work on the blocking pool; more jobs than this wait for a turn, their
    /// summaries already fetched).
    #[arg(long = "report-card-concurrency", env = "NOTIFY_REPORT_CARD_CONCURRENCY",
          default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub report_card_concurrency: u16,
}

impl ReportCardsConfig {
    pub fn analytics_timeout(&self) -> Duration {
        Duration::from_millis(self.analytics_timeout_ms)
    }
}

impl Default for ReportCardsConfig {
    fn default() -> Self {
        Self {
            analytics_url: "http://127.0.0.1:50052".into(),
            analytics_timeout_ms: 5000,
            report_card_concurrency: 2,
        }
    }
}
