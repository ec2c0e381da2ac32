//! One school's current state as domain events (`ExportService`), for read
//! models kept elsewhere: analytics-svc rebuilds a school from it, and seeds
//! a new deployment with it. Every record becomes the event that would
//! create it now, with the version it has now, so a consumer applies the
//! export with the same newest-wins code as the live stream.

pub mod api;
pub mod model;
pub mod repo;
