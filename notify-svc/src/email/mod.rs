//! The e-mail channel: plain-text mails through an SMTP relay with `lettre`
//! (tokio, rustls with the webpki roots, a connection pool per replica).
//!
//! Security is configured, never negotiated down: `starttls` requires the
//! upgrade, `tls` is implicit TLS (port 465), `none` is plain text for a
//! local sink only. Each message has a deadline (every SMTP command, and the
//! whole send). A `4xx` answer, a timeout or a broken connection is
//! transient (the job is retried with the queue's backoff); a `5xx` answer
//! is permanent (`failed`). Addresses are personal data: logged masked.
//!
//! The job id becomes the `Message-ID`, so a resend after a lost answer
//! (at-least-once delivery) carries the same id and a relay or mail client
//! that deduplicates on it drops the copy.

mod config;
mod message;

use std::time::Duration;

use anyhow::Context;
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
        PoolConfig,
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

pub use config::EmailConfig;
pub use message::{mask, EmailAddress, EmailMessage, InvalidEmail};

/// How the connection to the relay is secured.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS; the upgrade is required.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: a local sink only.
    None,
}

impl SmtpSecurity {
    fn default_port(self) -> u16 {
        match self {
            Self::Starttls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

/// Everything the client needs, validated by [`EmailClient::new`].
pub struct SmtpSettings {
    pub host: String,
    pub port: Option<u16>,
    pub security: SmtpSecurity,
    pub credentials: Option<(String, SecretString)>,
    pub from: String,
    pub timeout: Duration,
    pub pool_size: u32,
}

/// Why a send failed. Short texts without personal data: they are stored as
/// the job's `last_error`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    #[error("relay rejected the message (SMTP {0})")]
    Rejected(String),
    #[error("relay unavailable (SMTP {0})")]
    Unavailable(String),
    #[error("relay did not answer in time")]
    Timeout,
    #[error("relay connection failed")]
    Connection,
    #[error("message could not be built")]
    Build,
}

impl SendError {
    /// Whether sending the same message again may succeed.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Rejected(_) | Self::Build)
    }
}

#[derive(Clone)]
pub struct EmailClient {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
    host: String,
}

impl std::fmt::Debug for EmailClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailClient")
            .field("host", &self.host)
            .field("from", &self.from.email.domain())
            .finish_non_exhaustive()
    }
}

impl EmailClient {
    pub fn new(s: SmtpSettings) -> anyhow::Result<Self> {
        anyhow::ensure!(!s.host.trim().is_empty(), "NOTIFY_SMTP_HOST is empty");
        let from: Mailbox = s
            .from
            .parse()
            .context("NOTIFY_SMTP_FROM is not a mailbox (`Name <address>` or `address`)")?;
        let tls = match s.security {
            SmtpSecurity::Starttls => Tls::Required(
                TlsParameters::new(s.host.clone()).context("TLS settings for NOTIFY_SMTP_HOST")?,
            ),
            SmtpSecurity::Tls => Tls::Wrapper(
                TlsParameters::new(s.host.clone()).context("TLS settings for NOTIFY_SMTP_HOST")?,
            ),
            SmtpSecurity::None => {
                if s.credentials.is_some() {
                    tracing::warn!("NOTIFY_SMTP_SECURITY=none with credentials: the password travels unencrypted");
                }
                Tls::None
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
            .port(s.port.unwrap_or_else(|| s.security.default_port()))
            .tls(tls)
            .timeout(Some(s.timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(s.pool_size)
                    .idle_timeout(Duration::from_secs(60)),
            );
        if let Some((user, password)) = s.credentials {
            builder =
                builder.credentials(Credentials::new(user, password.expose_secret().to_owned()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            timeout: s.timeout,
            host: s.host,
        })
    }

    /// Sends one message; `id` (the job's) becomes its `Message-ID`.
    pub async fn send(&self, m: &EmailMessage, id: Uuid) -> Result<(), SendError> {
        let to: lettre::Address = m.to.as_str().parse().map_err(|_| SendError::Build)?;
        let domain = self.from.email.domain().to_owned();
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(m.subject.clone())
            .message_id(Some(format!("<{id}@{domain}>")))
            .header(ContentType::TEXT_PLAIN)
            .body(m.text.clone())
            .map_err(|_| SendError::Build)?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Err(_) => Err(SendError::Timeout),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(classify(&e)),
        }
    }
}

fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let code = || e.status().map(|c| c.to_string()).unwrap_or_default();
    if e.is_permanent() {
        SendError::Rejected(code())
    } else if e.is_transient() {
        SendError::Unavailable(code())
    } else if e.is_timeout() {
        SendError::Timeout
    } else {
        SendError::Connection
    }
}
