//! Domain events on Redis Streams (docs/ARCHITECTURE.md, "Domain events").
//!
//! students-svc's relay appends each school's events to `ev:{school:<id>}`
//! and registers that key in the set [`STREAM_REGISTRY`], so consumers find
//! every stream without `KEYS`/`SCAN`. A service consumes them with a
//! [`Consumer`]: one consumer group per service, one consumer per replica.
//! The service's schema needs the inbox table
//! `processed_events (event_id uuid PRIMARY KEY)`.
//!
//! - [`keys`]: stream, dead-letter and registry keys (one slot per school).
//! - [`entry`]: a stream entry as read, and its decoding.
//! - [`consumer`]: discovery, reads, reclaims, one transaction per event.
//! - [`dlq`]: the dead-letter move (XADD + XACK in one script call).

pub mod consumer;
pub mod dlq;
pub mod entry;
pub mod keys;

use std::future::Future;

pub use consumer::{Consumer, ConsumerSettings};
pub use keys::{dlq_key, stream_key, STREAM_REGISTRY};
pub use proto::events::v1::Event;

/// Applies one decoded event on the consumer's transaction. The consumer has
/// already recorded the event id in the inbox on that transaction, and
/// commits (then acknowledges) only when this returns `Ok`; an error rolls
/// everything back and leaves the entry pending, to be redelivered.
///
/// Implementations skip payloads they do not know (returning `Ok`), and must
/// touch only the event's school: `event.school_id` is the stream's school.
pub trait Handler: Send + Sync + 'static {
    fn apply(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        event: &Event,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Runs after a transaction that applied at least one new event of
    /// `school` has committed (before its XACK): the place for side effects
    /// that must not be seen before the writes are, such as bumping a cache
    /// generation (a reader that raced a bump made before the commit could
    /// store the old answer under the new generation). Best effort: a crash
    /// between the commit and this call skips it, and a redelivery finds the
    /// event done. The default does nothing.
    fn committed(&self, school: uuid::Uuid) -> impl Future<Output = ()> + Send {
        let _ = school;
        std::future::ready(())
    }

    /// Whether `event` may wait for [`Handler::apply_together`] when the
    /// consumer applies a whole read of a stream in one transaction (the
    /// common case under load). Say yes only for events whose effect does
    /// not depend on their order relative to the read's other events: they
    /// are applied after the read's other new events. The default: none.
    fn together(&self, event: &Event) -> bool {
        let _ = event;
        false
    }

    /// Applies, on the read's transaction and after its other new events,
    /// the new events [`Handler::together`] chose, in stream order: the place
    /// to turn many small writes into a few set-based ones. An error rolls
    /// the read back and the consumer goes entry by entry ([`Handler::apply`]).
    /// The default applies each with [`Handler::apply`].
    fn apply_together(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        events: &[&Event],
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        async move {
            for event in events {
                self.apply(tx, event).await?;
            }
            Ok(())
        }
    }
}
