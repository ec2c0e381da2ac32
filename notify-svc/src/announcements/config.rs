//! The announcements' settings.

/// The daily quota and the fan-out's batch size.
#[derive(clap::Args, Debug, Clone)]
pub struct AnnouncementsConfig {
    /// Announcements one school may send per day (its local day, in its
    /// time zone); more answer RESOURCE_EXHAUSTED (HTTP 429) until its next
    /// day.
    #[arg(long = "announcements-per-day", env = "NOTIFY_ANNOUNCEMENTS_PER_DAY",
          default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub announcements_per_day: u32,
    /// Guardians per fan-out job (one transaction each: their inbox rows and
    /// delivery jobs).
    #[arg(long = "announcement-batch", env = "NOTIFY_ANNOUNCEMENT_BATCH",
          default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=5_000))]
    pub announcement_batch: u32,
}

impl Default for AnnouncementsConfig {
    fn default() -> Self {
        Self {
            announcements_per_day: 20,
            announcement_batch: 500,
        }
    }
}
