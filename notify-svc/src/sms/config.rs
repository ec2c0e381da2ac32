use std::time::Duration;

use secrecy::SecretString;

use super::SmsClient;

/// The SMS provider. All three of URL, key and sender, or none: without a
/// provider, `sms` jobs end `dead` ("sms provider not configured") so they
/// show on the dashboards and can be requeued once it is configured.
#[derive(clap::Args, Debug, Clone)]
pub struct SmsConfig {
    /// API root of the SMS provider (`https://…`); `/v1/messages` is appended.
    #[arg(long = "sms-base-url", env = "NOTIFY_SMS_BASE_URL")]
    pub sms_base_url: Option<String>,
    /// Bearer API key of the SMS provider.
    #[arg(
        long = "sms-api-key",
        env = "NOTIFY_SMS_API_KEY",
        hide_env_values = true
    )]
    pub sms_api_key: Option<SecretString>,
    /// Sender id or number the messages come from.
    #[arg(long = "sms-from", env = "NOTIFY_SMS_FROM")]
    pub sms_from: Option<String>,
    /// Deadline of one request to the provider (keep it well under the lease).
    #[arg(
        long = "sms-timeout-ms",
        env = "NOTIFY_SMS_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub sms_timeout_ms: u64,
}

impl SmsConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.sms_timeout_ms.max(1))
    }

    /// The client, `None` when no provider is configured; a partial
    /// configuration is an error (a typo must not silently disable SMS).
    pub fn client(&self) -> anyhow::Result<Option<SmsClient>> {
        match (&self.sms_base_url, &self.sms_api_key, &self.sms_from) {
            (None, None, None) => Ok(None),
            (Some(url), Some(key), Some(from)) => {
                SmsClient::new(url, key.clone(), from.clone(), self.timeout()).map(Some)
            }
            _ => anyhow::bail!(
                "NOTIFY_SMS_BASE_URL, NOTIFY_SMS_API_KEY and NOTIFY_SMS_FROM go together: set all three or none"
            ),
        }
    }
}
