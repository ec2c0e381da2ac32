//! Dead letters: an entry that cannot be applied (undecodable, or failed on
//! every one of its allowed deliveries) is copied to its school's
//! dead-letter stream `ev:{school:<id>}:dlq` and acknowledged, in one script
//! call (both keys share the slot), so it is never lost and never retried
//! forever. An operator replays one by XADDing its fields back.

use fred::{
    prelude::*,
    types::{scripts::Script, Value},
};

use super::{entry::Entry, keys::dlq_key};

/// Dead-letter streams are trimmed to about this many entries.
const DLQ_MAXLEN: i64 = 10_000;

const SCRIPT: &str = "\
-- KEYS[1]: stream, KEYS[2]: its dead-letter stream.
-- ARGV[1]: group, ARGV[2]: entry id, ARGV[3]: MAXLEN, then field/value pairs.
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
";

pub struct DeadLetters {
    script: Script,
}

impl Default for DeadLetters {
    fn default() -> Self {
        Self {
            script: Script::from_lua(SCRIPT),
        }
    }
}

/// Why an entry was dead-lettered (a metric label and a field of the copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Undecodable,
    MaxDeliveries,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable",
            Self::MaxDeliveries => "max_deliveries",
        }
    }
}

/// One entry on its way to the dead-letter stream.
pub struct Letter<'a> {
    pub stream: &'a str,
    pub group: &'a str,
    pub entry: &'a Entry,
    pub reason: Reason,
    pub deliveries: u64,
    pub error: &'a str,
}

impl DeadLetters {
    /// Copies the entry with `source_id`, `group`, `reason`, `error` and
    /// `deliveries` fields added, then XACKs it.
    pub async fn send(&self, redis: &Client, l: &Letter<'_>) -> Result<(), fred::error::Error> {
        let mut args: Vec<Value> = vec![
            l.group.into(),
            l.entry.id.as_str().into(),
            Value::Integer(DLQ_MAXLEN),
        ];
        for (k, v) in &l.entry.fields {
            args.push(k.as_str().into());
            args.push(v.clone());
        }
        for (k, v) in [
            ("source_id", l.entry.id.as_str()),
            ("group", l.group),
            ("reason", l.reason.as_str()),
            ("error", l.error),
        ] {
            args.push(k.into());
            args.push(v.into());
        }
        args.push("deliveries".into());
        args.push(Value::Integer(
            i64::try_from(l.deliveries).unwrap_or(i64::MAX),
        ));
        self.script
            .evalsha_with_reload::<i64, _, _>(
                redis,
                vec![l.stream.to_owned(), dlq_key(l.stream)],
                args,
            )
            .await?;
        Ok(())
    }
}
