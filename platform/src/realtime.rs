//! Realtime messages for the gateway's WebSocket clients, over Redis sharded
//! pub/sub (docs/ARCHITECTURE.md, "Realtime").
//!
//! A publisher ([`publish`]) sends one JSON [`Envelope`] on its school's
//! channel `rt:{school:<id>}`; every gateway instance with a client of that
//! school subscribes to the channel and routes the envelope to the sockets
//! its [`Target`] names. Delivery is at most once: a reconnecting client
//! catches up through the API.
//!
//! Sharded pub/sub (SPUBLISH / SSUBSCRIBE, Redis 7) rather than PUBLISH: on a
//! cluster a classic PUBLISH is broadcast to every node over the cluster bus,
//! while a shard channel lives in one slot (the hash tag puts it beside the
//! school's other keys) and is delivered by that shard only. Standalone Redis 7
//! accepts the same commands, so one code path serves both.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use fred::{clients::SubscriberClient, prelude::*};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::caller::Role;

/// Largest envelope accepted (JSON bytes): realtime messages say what
/// changed; clients fetch the content through the API.
pub const MAX_ENVELOPE_BYTES: usize = 16 * 1024;

const CHANNEL_PREFIX: &str = "rt:{school:";

/// The shard channel of a school.
pub fn channel(school: Uuid) -> String {
    format!("{CHANNEL_PREFIX}{school}}}")
}

/// The school of a channel name made by [`channel`].
pub fn school_of_channel(channel: &str) -> Option<Uuid> {
    let id = channel.strip_prefix(CHANNEL_PREFIX)?.strip_suffix('}')?;
    Uuid::parse_str(id).ok()
}

/// Who in the school receives a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "TargetRepr", try_from = "TargetRepr")]
pub enum Target {
    /// One user (every socket of that login).
    User(Uuid),
    /// Every user of a role.
    Role(Role),
    /// Everybody in the school.
    School,
}

impl Target {
    /// Whether a socket of `user` with `role` receives a message for `self`.
    pub fn includes(&self, user: Uuid, role: Role) -> bool {
        match self {
            Target::User(u) => *u == user,
            Target::Role(r) => *r == role,
            Target::School => true,
        }
    }
}

/// The JSON form: `{"type":"user","user_id":…}`, `{"type":"role","role":…}`,
/// `{"type":"school"}`.
#[derive(Serialize, Deserialize)]
struct TargetRepr {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
}

impl From<Target> for TargetRepr {
    fn from(t: Target) -> Self {
        let (kind, user_id, role) = match t {
            Target::User(u) => ("user", Some(u), None),
            Target::Role(r) => ("role", None, Some(r.as_str().to_owned())),
            Target::School => ("school", None, None),
        };
        Self {
            kind: kind.to_owned(),
            user_id,
            role,
        }
    }
}

impl TryFrom<TargetRepr> for Target {
    type Error = String;
    fn try_from(r: TargetRepr) -> Result<Self, String> {
        match (r.kind.as_str(), r.user_id, r.role) {
            ("user", Some(u), None) => Ok(Target::User(u)),
            ("role", None, Some(role)) => role
                .parse()
                .map(Target::Role)
                .map_err(|_| format!("unknown role {role:?}")),
            ("school", None, None) => Ok(Target::School),
            _ => Err(
                "a target is {type: user, user_id} | {type: role, role} | {type: school}".into(),
            ),
        }
    }
}

/// What kind of message this is, e.g. `notification.created`: 1-64 of
/// `a-z 0-9 . _ -`, so clients can switch on it and it is safe to log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Kind(String);

impl Kind {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Kind {
    type Error = PublishError;
    fn try_from(s: String) -> Result<Self, PublishError> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if ok {
            Ok(Self(s))
        } else {
            Err(PublishError::InvalidKind)
        }
    }
}

impl TryFrom<&str> for Kind {
    type Error = PublishError;
    fn try_from(s: &str) -> Result<Self, PublishError> {
        Self::try_from(s.to_owned())
    }
}

impl From<Kind> for String {
    fn from(k: Kind) -> Self {
        k.0
    }
}

/// One realtime message as it travels and as WebSocket clients receive it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// UUIDv7: time-ordered, so a client can tell what it has seen.
    pub id: Uuid,
    pub school: Uuid,
    pub target: Target,
    pub kind: Kind,
    pub payload: serde_json::Value,
    pub sent_at: DateTime<Utc>,
}

/// The fields a router needs, read without parsing the payload.
#[derive(Debug, Deserialize)]
pub struct Address {
    pub school: Uuid,
    pub target: Target,
}

impl Address {
    /// The address of a JSON envelope.
    pub fn of(json: &str) -> Option<Self> {
        serde_json::from_str(json).ok()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the kind must be 1-64 characters of a-z, 0-9, '.', '_' or '-'")]
    InvalidKind,
    #[error("the message is larger than {MAX_ENVELOPE_BYTES} bytes")]
    TooLarge,
    #[error("cannot publish: {0}")]
    Redis(#[from] fred::error::Error),
}

/// What a publish did.
#[derive(Clone, Copy, Debug)]
pub struct Published {
    pub id: Uuid,
    /// Subscribers (gateway instances, not sockets) that received it; 0 when
    /// nobody of the school is connected anywhere.
    pub receivers: u64,
}

/// Publishes one message for `target` in `school` (SPUBLISH on the school's
/// shard channel). Fire-and-forget: nobody connected means nobody receives
/// it, and it is never retried (fred's re-send is off in `crate::redis`).
pub async fn publish(
    redis: &Client,
    school: Uuid,
    target: Target,
    kind: Kind,
    payload: serde_json::Value,
) -> Result<Published, PublishError> {
    let envelope = Envelope {
        id: Uuid::now_v7(),
        school,
        target,
        kind,
        payload,
        sent_at: Utc::now(),
    };
    let json = serde_json::to_string(&envelope).map_err(|_| PublishError::TooLarge)?;
    if json.len() > MAX_ENVELOPE_BYTES {
        return Err(PublishError::TooLarge);
    }
    let receivers: u64 = redis.spublish(channel(school), json).await?;
    Ok(Published {
        id: envelope.id,
        receivers,
    })
}

/// A dedicated subscriber client for `url` (its own connections: a
/// subscribed connection can do nothing else), not yet connected. It
/// re-subscribes its channels after every reconnect once
/// [`SubscriberClient::manage_subscriptions`] runs.
pub fn subscriber(url: &str, command_timeout: Duration) -> anyhow::Result<SubscriberClient> {
    let config = Config::from_url(url).context("invalid Redis URL")?;
    Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_millis(500);
            c.internal_command_timeout = command_timeout;
            // Bounded: a subscribe during an outage fails fast instead of
            // queueing behind a dead connection.
            c.max_command_buffer_len = 1_000;
        })
        .with_performance_config(|p| {
            p.default_command_timeout = command_timeout;
            // Messages wait here for the router; fred drops (and reports
            // `Lagged`) beyond this rather than grow.
            p.broadcast_channel_capacity = 4_096;
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2))
        .build_subscriber_client()
        .context("cannot build the Redis subscriber")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_round_trip_and_carry_a_hash_tag() {
        let school = Uuid::now_v7();
        let c = channel(school);
        assert_eq!(c, format!("rt:{{school:{school}}}"));
        assert_eq!(school_of_channel(&c), Some(school));
        assert_eq!(school_of_channel("rt:{school:nope}"), None);
        assert_eq!(school_of_channel(&format!("c:{{school:{school}}}")), None);
    }

    #[test]
    fn targets_serialise_as_tagged_objects() {
        let u = Uuid::now_v7();
        for (t, json) in [
            (
                Target::User(u),
                serde_json::json!({"type": "user", "user_id": u}),
            ),
            (
                Target::Role(Role::Teacher),
                serde_json::json!({"type": "role", "role": "teacher"}),
            ),
            (Target::School, serde_json::json!({"type": "school"})),
        ] {
            assert_eq!(serde_json::to_value(t).unwrap(), json);
            assert_eq!(serde_json::from_value::<Target>(json).unwrap(), t);
        }
        for bad in [
            serde_json::json!({"type": "role", "role": "janitor"}),
            serde_json::json!({"type": "user"}),
            serde_json::json!({"type": "school", "user_id": u}),
            serde_json::json!({"type": "everyone"}),
        ] {
            assert!(serde_json::from_value::<Target>(bad).is_err());
        }
    }

    #[test]
    fn targets_include_the_right_sockets() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(Target::User(a).includes(a, Role::Student));
        assert!(!Target::User(a).includes(b, Role::Student));
        assert!(Target::Role(Role::Teacher).includes(b, Role::Teacher));
        assert!(!Target::Role(Role::Teacher).includes(b, Role::Admin));
        assert!(Target::School.includes(a, Role::Guardian));
    }

    /// Refused before any Redis call (the client never connects).
    #[tokio::test]
    async fn oversized_messages_are_refused() {
        let redis = crate::redis::client("redis://127.0.0.1:1", &Default::default()).unwrap();
        let big = serde_json::json!({"text": "x".repeat(MAX_ENVELOPE_BYTES)});
        let r = publish(
            &redis,
            Uuid::now_v7(),
            Target::School,
            Kind::try_from("big").unwrap(),
            big,
        )
        .await;
        assert!(matches!(r, Err(PublishError::TooLarge)), "{r:?}");
    }

    #[test]
    fn kinds_are_plain() {
        assert!(Kind::try_from("notification.created").is_ok());
        for bad in ["", "Grades", "a b", "x\n", &"k".repeat(65)] {
            assert!(Kind::try_from(bad).is_err(), "{bad:?}");
        }
    }
}
