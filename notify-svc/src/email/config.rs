use std::time::Duration;

use secrecy::SecretString;

use super::{EmailClient, SmtpSecurity};

/// The SMTP relay e-mail goes out through. Without a host, `email` jobs end
/// `dead` ("email provider not configured") so they show on the dashboards
/// and can be requeued once it is configured.
#[derive(clap::Args, Debug, Clone)]
pub struct EmailConfig {
    /// SMTP relay host name (also the name its certificate must carry).
    #[arg(long = "smtp-host", env = "NOTIFY_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// Port; defaults by security: 587 (starttls), 465 (tls), 25 (none).
    #[arg(long = "smtp-port", env = "NOTIFY_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// `starttls` (upgrade required), `tls` (implicit TLS) or `none` (plain
    /// text: only for a local sink).
    #[arg(long = "smtp-security", env = "NOTIFY_SMTP_SECURITY", value_enum,
          default_value_t = SmtpSecurity::Starttls)]
    pub smtp_security: SmtpSecurity,
    /// SMTP AUTH user; with the password, or neither.
    #[arg(long = "smtp-username", env = "NOTIFY_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    #[arg(
        long = "smtp-password",
        env = "NOTIFY_SMTP_PASSWORD",
        hide_env_values = true
    )]
    pub smtp_password: Option<SecretString>,
    /// The `From:` mailbox, e.g. `Schoolhouse <no-reply@school.example>`.
    #[arg(
        long = "smtp-from",
        env = "NOTIFY_SMTP_FROM",
        default_value = "Schoolhouse <no-reply@schoolhouse.invalid>"
    )]
    pub smtp_from: String,
    /// Deadline of one message (connect, TLS, every command); keep it well
    /// under the job lease.
    #[arg(
        long = "smtp-timeout-ms",
        env = "NOTIFY_SMTP_TIMEOUT_MS",
        default_value_t = 15_000
    )]
    pub smtp_timeout_ms: u64,
    /// Most open connections to the relay per replica (pooled, reused); as
    /// many as the job workers, so no worker waits for a connection.
    #[arg(long = "smtp-pool-size", env = "NOTIFY_SMTP_POOL_SIZE", default_value_t = 24,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub smtp_pool_size: u32,
}

impl EmailConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.smtp_timeout_ms.max(1))
    }

    /// The client, `None` when no relay is configured.
    pub fn client(&self) -> anyhow::Result<Option<EmailClient>> {
        let Some(host) = &self.smtp_host else {
            anyhow::ensure!(
                self.smtp_username.is_none() && self.smtp_password.is_none(),
                "NOTIFY_SMTP_USERNAME/PASSWORD are set without NOTIFY_SMTP_HOST"
            );
            return Ok(None);
        };
        let credentials = match (&self.smtp_username, &self.smtp_password) {
            (None, None) => None,
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            _ => anyhow::bail!(
                "NOTIFY_SMTP_USERNAME and NOTIFY_SMTP_PASSWORD go together: set both or neither"
            ),
        };
        EmailClient::new(super::SmtpSettings {
            host: host.clone(),
            port: self.smtp_port,
            security: self.smtp_security,
            credentials,
            from: self.smtp_from.clone(),
            timeout: self.timeout(),
            pool_size: self.smtp_pool_size,
        })
        .map(Some)
    }
}
