//! A stream entry as Redis returns it, and its decoding into an [`Event`].
//! Field values stay raw (`e` is protobuf bytes), so an entry that cannot be
//! decoded is dead-lettered exactly as it was read.

use std::collections::HashMap;

use fred::types::Value;
use prost::Message;
use uuid::Uuid;

use super::Event;

#[derive(Clone, Debug)]
pub struct Entry {
    /// The stream entry id (`<ms>-<seq>`).
    pub id: String,
    pub fields: HashMap<String, Value>,
}

/// Why an entry cannot be applied whatever happens later.
#[derive(Debug, thiserror::Error)]
pub enum Undecodable {
    #[error("no `e` field")]
    Missing,
    #[error("`e` is not a school.events.v1.Event: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("event_id {0:?} is not a UUID")]
    EventId(String),
    #[error("school_id {0:?} is not the stream's school")]
    School(String),
}

impl Entry {
    /// The event, checked to belong to `school` (the stream's): an event in
    /// another school's stream would write into the wrong tenant.
    pub fn decode(&self, school: Option<Uuid>) -> Result<(Uuid, Event), Undecodable> {
        let raw = self
            .fields
            .get("e")
            .and_then(Value::as_bytes)
            .ok_or(Undecodable::Missing)?;
        let event = Event::decode(raw)?;
        let id = Uuid::parse_str(&event.event_id)
            .map_err(|_| Undecodable::EventId(event.event_id.clone()))?;
        if school.is_none_or(|s| event.school_id.parse::<Uuid>().ok() != Some(s)) {
            return Err(Undecodable::School(event.school_id));
        }
        Ok((id, event))
    }

    /// The `type` field, for labels of entries that cannot be decoded.
    pub fn type_field(&self) -> Option<String> {
        self.fields
            .get("type")
            .and_then(|v| v.as_str())
            .map(|s| s.into_owned())
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(|s| s.into_owned())
}

/// `[id, [field, value, ...]]`; `None` for a deleted entry (nil).
fn entry(v: Value) -> Option<Entry> {
    let Value::Array(mut parts) = v else {
        return None;
    };
    if parts.len() != 2 {
        return None;
    }
    let fields = parts.pop()?;
    let id = text(&parts[0])?;
    let Value::Array(flat) = fields else {
        return None;
    };
    let mut map = HashMap::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        map.insert(text(&k)?, v);
    }
    Some(Entry { id, fields: map })
}

/// The entries of an XAUTOCLAIM reply `[cursor, [entry...], [deleted...]]`
/// (Redis 7; 6.2 has no third element), skipping deleted ones.
pub fn from_autoclaim(reply: Value) -> Vec<Entry> {
    match reply {
        Value::Array(mut parts) if parts.len() >= 2 => match parts.swap_remove(1) {
            Value::Array(entries) => entries.into_iter().filter_map(entry).collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The streams of an XREADGROUP reply: nil when nothing arrived, else
/// `[[key, [entry...]]...]` (RESP2) or a map of key to entries (RESP3).
pub fn from_xread(reply: Value) -> Vec<(String, Vec<Entry>)> {
    let streams: Vec<(Value, Value)> = match reply {
        Value::Array(streams) => streams
            .into_iter()
            .filter_map(|s| match s {
                Value::Array(mut kv) if kv.len() == 2 => {
                    let entries = kv.pop()?;
                    Some((kv.pop()?, entries))
                }
                _ => None,
            })
            .collect(),
        Value::Map(map) => map
            .inner()
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
        _ => Vec::new(),
    };
    streams
        .into_iter()
        .filter_map(|(key, entries)| {
            let Value::Array(entries) = entries else {
                return None;
            };
            Some((text(&key)?, entries.into_iter().filter_map(entry).collect()))
        })
        .collect()
}

/// Delivery counts of an extended XPENDING reply `[[id, consumer, idle, count]...]`.
pub fn delivery_counts(reply: Value) -> HashMap<String, u64> {
    let Value::Array(rows) = reply else {
        return HashMap::new();
    };
    rows.into_iter()
        .filter_map(|row| match row {
            Value::Array(f) if f.len() == 4 => Some((text(&f[0])?, f[3].as_u64()?)),
            _ => None,
        })
        .collect()
}

/// The count of a summary XPENDING reply `[count, min, max, consumers]`.
pub fn pending_count(reply: &Value) -> u64 {
    match reply {
        Value::Array(f) => f.first().and_then(Value::as_u64).unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn parses_autoclaim_and_pending_replies() {
        let reply = Value::Array(vec![
            s("0-0"),
            Value::Array(vec![
                Value::Array(vec![
                    s("1-1"),
                    Value::Array(vec![
                        s("id"),
                        s("x"),
                        s("e"),
                        Value::Bytes(vec![0xff].into()),
                    ]),
                ]),
                Value::Null,
            ]),
            Value::Array(vec![s("1-2")]),
        ]);
        let entries = from_autoclaim(reply);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].id, "1-1");
        assert!(matches!(
            entries[0].decode(None),
            Err(Undecodable::Protobuf(_))
        ));
        let counts = delivery_counts(Value::Array(vec![Value::Array(vec![
            s("1-1"),
            s("c"),
            Value::Integer(10),
            Value::Integer(3),
        ])]));
        assert_eq!(counts["1-1"], 3);
        let read = from_xread(Value::Array(vec![Value::Array(vec![
            s("ev:{school:x}"),
            Value::Array(vec![Value::Array(vec![
                s("2-1"),
                Value::Array(vec![s("type"), s("t")]),
            ])]),
        ])]));
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].0, "ev:{school:x}");
        assert_eq!(read[0].1[0].type_field().as_deref(), Some("t"));
        assert!(from_xread(Value::Null).is_empty());
        assert_eq!(
            pending_count(&Value::Array(vec![Value::Integer(7), Value::Null])),
            7
        );
    }
}
