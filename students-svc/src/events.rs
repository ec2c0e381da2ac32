//! Domain events into the outbox. A repository function that changes state
//! calls [`record`] (or [`record_all`]) on the same transaction as the change,
//! so the event exists exactly when the change committed. The relay
//! ([`crate::relay`]) publishes them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use prost::Message;
use proto::events::v1::{self as ev, event::Payload};
use tokio_postgres::Statement;
use uuid::Uuid;

use platform::service::ServiceError;
use platform::wire::timestamp;

/// The record an event is about.
#[derive(Clone, Copy, Debug)]
pub struct Aggregate {
    pub kind: &'static str,
    pub id: Uuid,
}

/// One event to record.
#[derive(Debug)]
pub struct Pending {
    pub aggregate: Aggregate,
    /// `<aggregate>.<verb>`, e.g. `student.created`.
    pub event_type: &'static str,
    pub payload: Payload,
}

impl Pending {
    pub fn new(aggregate: Aggregate, event_type: &'static str, payload: Payload) -> Self {
        Self {
            aggregate,
            event_type,
            payload,
        }
    }
}

/// Who caused the change: the school (tenant) and, for requests, the user.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    pub school_id: Uuid,
    pub actor: Option<Uuid>,
}

impl Origin {
    /// A change made by user `actor` of school `school_id`.
    pub fn user(school_id: Uuid, actor: Uuid) -> Self {
        Self {
            school_id,
            actor: Some(actor),
        }
    }
}

/// The event as streams carry it.
pub fn envelope(
    id: Uuid,
    origin: Origin,
    e: Pending,
    at: DateTime<Utc>,
    trace_context: HashMap<String, String>,
) -> ev::Event {
    ev::Event {
        event_id: id.to_string(),
        school_id: origin.school_id.to_string(),
        aggregate_type: e.aggregate.kind.to_owned(),
        aggregate_id: e.aggregate.id.to_string(),
        event_type: e.event_type.to_owned(),
        occurred_at: Some(timestamp(at)),
        actor_user_id: origin.actor.map(|a| a.to_string()).unwrap_or_default(),
        trace_context,
        payload: Some(e.payload),
    }
}

/// The current span's W3C trace context, to be carried by the event.
fn trace_context() -> HashMap<String, String> {
    let mut carrier = HashMap::new();
    platform::telemetry::inject_current(&mut carrier);
    carrier
}

/// Records one event; see [`record_all`].
pub async fn record<C: GenericClient>(
    c: &C,
    origin: Origin,
    event: Pending,
) -> Result<Uuid, ServiceError> {
    Ok(record_all(c, origin, vec![event]).await?[0])
}

/// Records events in one INSERT whatever their number (bulk operations stay
/// at a fixed statement count) and returns their ids in order.
pub async fn record_all<C: GenericClient>(
    c: &C,
    origin: Origin,
    events: Vec<Pending>,
) -> Result<Vec<Uuid>, ServiceError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let stmt = prepare(c).await?;
    insert(c, &stmt, origin, events).await
}

/// The outbox INSERT, prepared (cached per connection).
pub async fn prepare<C: GenericClient>(c: &C) -> Result<Statement, ServiceError> {
    Ok(c.prepare_cached(
        // clock_timestamp(), not now(): the event is written at the end
        // of its transaction, so this is close to the commit, and the
        // publish lag measured from it is the relay's, not the change's.
        "INSERT INTO outbox (event_id, school_id, event_type, payload, created_at) \
         SELECT e, $2, t, p, clock_timestamp() \
         FROM unnest($1::uuid[], $3::text[], $4::bytea[]) \
         WITH ORDINALITY AS x(e, t, p, n) ORDER BY n",
    )
    .await?)
}

/// Inserts `events` with the statement of [`prepare`]. Encodes them, then
/// sends the INSERT when first polled: nothing in between waits, which
/// [`platform::db::Pipelined::commit`] relies on.
pub async fn insert<C: GenericClient>(
    c: &C,
    stmt: &Statement,
    origin: Origin,
    events: Vec<Pending>,
) -> Result<Vec<Uuid>, ServiceError> {
    let now = Utc::now();
    let trace = trace_context();
    let n = events.len();
    let (mut ids, mut types, mut payloads) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for e in events {
        let id = Uuid::now_v7();
        types.push(e.event_type);
        payloads.push(envelope(id, origin, e, now, trace.clone()).encode_to_vec());
        ids.push(id);
    }
    c.execute(stmt, &[&ids, &origin.school_id, &types, &payloads])
        .await?;
    Ok(ids)
}
