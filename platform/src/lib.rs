//! Shared runtime code for the gateway and the services.
//!
//! - [`telemetry`]: tracing-subscriber set-up (JSON or pretty logs).
//! - [`shutdown`]: a future that resolves on SIGTERM or Ctrl-C.
//! - [`caller`]: the authenticated caller carried in gRPC metadata.
//! - [`status`]: the one gRPC → HTTP status table (docs/ARCHITECTURE.md) and
//!   bounded field errors.
//! - [`text`]: strict parsing of ids, dates and display text.
//! - [`balance`]: client-side balancing over healthy replicas.
//! - [`grpc`]: client channels with timeouts, server health and listeners.
//! - [`metrics`]: the Prometheus recorder, the admin `/metrics` listener and
//!   the per-RPC metrics layer.
//! - [`db`] (feature `db`): pooled Postgres with timeouts and migrations
//!   applied under an advisory lock.
//! - [`service`] (feature `db`): the services' error type, its gRPC status
//!   mapping and the field-error collector.
//! - [`paging`] (feature `db`): keyset cursors, page limits and page cuts.
//! - [`health_only`] (feature `db`): migrate, then serve only gRPC health.
//! - [`redis`] (feature `redis`): a fred client with bounded timeouts.
//! - [`cache`] (feature `redis`): the response cache's keys and
//!   generation bumps, shared by the gateway and analytics-svc.
//! - [`realtime`] (feature `redis`): WebSocket messages over sharded pub/sub:
//!   the envelope, the per-school channel, the publisher and the subscriber.
//! - [`events`] (feature `events`): stream keys and the consumer-group
//!   consumer that applies each domain event in one Postgres transaction.
//! - [`wire`] (feature `events`): proto times and dates.
//! - [`testing`] (feature `testing`): a fresh database per test, and the
//!   helpers every crate's tests share (polling, gRPC codes, Redis URLs).

pub mod balance;
pub mod caller;
pub mod grpc;
pub mod grpc_tls;
pub mod limits;
pub mod metrics;
pub mod shutdown;
pub mod status;
pub mod telemetry;
pub mod text;
pub mod trust;

#[cfg(feature = "redis")]
pub mod cache;
#[cfg(feature = "db")]
pub mod db;
#[cfg(feature = "events")]
pub mod events;
#[cfg(feature = "db")]
pub mod health_only;
#[cfg(feature = "db")]
pub mod paging;
#[cfg(feature = "redis")]
pub mod realtime;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "db")]
pub mod service;
#[cfg(feature = "redis")]
pub mod sessions;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "events")]
pub mod wire;
