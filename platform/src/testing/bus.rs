//! A test's event bus: a Redis client and a stream registry of the test's
//! own, so consumers started by tests running beside it never read its
//! streams. Events are appended exactly as the outbox relay appends them.

use std::{collections::HashMap, time::Duration};

use fred::{prelude::*, types::Value};
use prost::Message;
use proto::events::v1::Event;
use uuid::Uuid;

use crate::{
    events::{dlq_key, entry::pending_count, stream_key},
    redis::RedisSettings,
};

/// A connected client with a test-friendly command timeout.
pub async fn redis(url: &str) -> Client {
    let settings = RedisSettings {
        command_timeout: Duration::from_secs(2),
        ..RedisSettings::default()
    };
    let client = crate::redis::connect(url, &settings).expect("redis client");
    client.wait_for_connect().await.expect("redis connects");
    client
}

/// Where a test's events go: its Redis and its own stream registry.
#[derive(Clone)]
pub struct Bus {
    pub url: String,
    pub client: Client,
    pub registry: String,
}

impl Bus {
    pub async fn new(url: String) -> Self {
        Self {
            client: redis(&url).await,
            url,
            registry: format!("ev:streams:test:{}", Uuid::new_v4().simple()),
        }
    }

    /// Registers the school's stream and appends `event` as the relay does
    /// (fields `id`, `type`, `e`); returns the entry id.
    pub async fn publish(&self, event: &Event) -> String {
        let school: Uuid = event.school_id.parse().expect("event school id");
        self.publish_raw(
            school,
            vec![
                ("id", Value::from(event.event_id.as_str())),
                ("type", Value::from(event.event_type.as_str())),
                ("e", Value::Bytes(event.encode_to_vec().into())),
            ],
        )
        .await
    }

    /// Appends arbitrary fields (for malformed entries) to the school's stream.
    pub async fn publish_raw(&self, school: Uuid, fields: Vec<(&str, Value)>) -> String {
        let key = stream_key(school);
        let _: i64 = self
            .client
            .sadd(self.registry.as_str(), key.as_str())
            .await
            .expect("SADD");
        self.client
            .xadd(key, false, None, "*", fields)
            .await
            .expect("XADD")
    }

    /// The entries of the school's dead-letter stream, as fields.
    pub async fn dead_letters(&self, school: Uuid) -> Vec<HashMap<String, Value>> {
        let entries: Vec<(String, HashMap<String, Value>)> = self
            .client
            .xrange_values(dlq_key(&stream_key(school)), "-", "+", None)
            .await
            .expect("XRANGE");
        entries.into_iter().map(|(_, f)| f).collect()
    }

    /// Entries of `group` delivered but not acknowledged on the school's stream.
    pub async fn pending(&self, school: Uuid, group: &str) -> u64 {
        let reply: Value = self
            .client
            .xpending(stream_key(school), group, ())
            .await
            .expect("XPENDING");
        pending_count(&reply)
    }
}
