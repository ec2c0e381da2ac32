//! The SMS provider client. The protocol is the common shape of SMS HTTP
//! APIs:
//!
//! ```text
//! POST {base}/v1/messages
//! Authorization: Bearer <api key>
//! Idempotency-Key: <job id>
//! {"to": "+447700900123", "from": "Schoolhouse", "text": "..."}
//! → 201/202 {"id": "<provider message id>"}
//! ```
//!
//! 4xx answers are permanent (the message will never be accepted), except
//! 408 and 429; those, 5xx, timeouts and connection failures are transient.
//! A `Retry-After` in seconds is passed on to the queue. Phone numbers are
//! personal data: they are only ever shown masked ([`PhoneNumber::masked`]).

mod config;
mod message;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

pub use config::SmsConfig;
pub use message::{InvalidMessage, PhoneNumber, SmsMessage, SmsText};

/// Why a send failed. The texts are short and carry no personal data: they
/// are stored as the job's `last_error`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    #[error("provider rejected the message (HTTP {0})")]
    Rejected(u16),
    #[error("provider unavailable (HTTP {status})")]
    Unavailable {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("provider did not answer in time")]
    Timeout,
    #[error("cannot connect to the provider")]
    Connect,
    #[error("provider request failed")]
    Transport,
}

impl SendError {
    /// Whether sending the same message again may succeed.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Rejected(_))
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct SmsClient {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    api_key: SecretString,
    from: String,
}

impl std::fmt::Debug for SmsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsClient")
            .field("endpoint", &self.endpoint.as_str())
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Serialize)]
struct OutgoingMessage<'a> {
    to: &'a str,
    from: &'a str,
    text: &'a str,
}

#[derive(serde::Deserialize)]
struct Accepted {
    id: String,
}

/// Longest `Retry-After` taken from the provider; the queue caps it again.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

impl SmsClient {
    /// `base` is the provider's API root (`https://sms.example/api`).
    pub fn new(
        base: &str,
        api_key: SecretString,
        from: String,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        let base = reqwest::Url::parse(base).context("NOTIFY_SMS_BASE_URL is not a URL")?;
        anyhow::ensure!(
            matches!(base.scheme(), "https" | "http"),
            "NOTIFY_SMS_BASE_URL must be an http(s) URL"
        );
        let endpoint = reqwest::Url::parse(&format!(
            "{}/v1/messages",
            base.as_str().trim_end_matches('/')
        ))
        .context("NOTIFY_SMS_BASE_URL is not a URL")?;
        if base.scheme() == "http" && !base.host_str().is_some_and(is_loopback) {
            tracing::warn!("NOTIFY_SMS_BASE_URL is plain http: the API key and phone numbers travel unencrypted");
        }
        anyhow::ensure!(!from.trim().is_empty(), "NOTIFY_SMS_FROM is empty");
        anyhow::ensure!(
            !api_key.expose_secret().trim().is_empty(),
            "NOTIFY_SMS_API_KEY is empty"
        );
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            // A redirect would carry the API key to another address.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("cannot build the SMS HTTP client")?;
        Ok(Self {
            http,
            endpoint,
            api_key,
            from,
        })
    }

    /// Sends one message; `idempotency_key` lets the provider drop a resend
    /// of a message it already accepted (a retry after a lost answer).
    /// Returns the provider's message id.
    pub async fn send(
        &self,
        message: &SmsMessage,
        idempotency_key: Uuid,
    ) -> Result<String, SendError> {
        let body = OutgoingMessage {
            to: message.to.as_str(),
            from: &self.from,
            text: message.text.as_str(),
        };
        let response = self
            .http
            .post(self.endpoint.clone())
            .bearer_auth(self.api_key.expose_secret())
            .header("Idempotency-Key", idempotency_key.to_string())
            .json(&body)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        if status.is_success() {
            // Accepted: never resend, even if the answer's body is odd.
            return Ok(match response.json::<Accepted>().await {
                Ok(a) => a.id,
                Err(_) => {
                    tracing::warn!(
                        http.status = status.as_u16(),
                        "SMS provider accepted the message without a readable id"
                    );
                    String::new()
                }
            });
        }
        let code = status.as_u16();
        if code == 408 || code == 429 || status.is_server_error() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
            return Err(SendError::Unavailable {
                status: code,
                retry_after,
            });
        }
        Err(SendError::Rejected(code))
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn classify(e: reqwest::Error) -> SendError {
    if e.is_timeout() {
        SendError::Timeout
    } else if e.is_connect() {
        SendError::Connect
    } else {
        SendError::Transport
    }
}
