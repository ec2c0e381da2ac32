//! Redis keys of the event streams. A school's stream and its dead-letter
//! stream share the hash tag `{school:<id>}`, so they live in one cluster
//! slot and a dead-letter move is one atomic script call.

use uuid::Uuid;

/// The set of every stream key the relay has published to (SADD, so
/// registering again is harmless). One key, one slot.
pub const STREAM_REGISTRY: &str = "ev:streams";

/// The stream a school's events are published to.
pub fn stream_key(school_id: Uuid) -> String {
    format!("ev:{{school:{school_id}}}")
}

/// Where entries of `stream` that could not be applied are moved.
pub fn dlq_key(stream: &str) -> String {
    format!("{stream}:dlq")
}

/// The school of a stream key, if it is one of ours.
pub fn school_of(stream: &str) -> Option<Uuid> {
    stream
        .strip_prefix("ev:{school:")?
        .strip_suffix('}')?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_and_dlq_share_a_slot() {
        let school = Uuid::now_v7();
        let stream = stream_key(school);
        assert_eq!(school_of(&stream), Some(school));
        assert_eq!(
            fred::util::redis_keyslot(stream.as_bytes()),
            fred::util::redis_keyslot(dlq_key(&stream).as_bytes())
        );
        assert_eq!(school_of("ev:{school:nope}"), None);
        assert_eq!(school_of(&dlq_key(&stream)), None);
    }
}
