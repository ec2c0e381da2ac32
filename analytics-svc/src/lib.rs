//! analytics-svc: dashboards and reports over read models kept current
//! from students-svc's domain events.
//!
//! It owns the `analytics` schema (migrated at start-up), consumes every
//! school's event stream with a [`platform::events::Consumer`] (group
//! `analytics`, one consumer per replica), serves
//! `school.analytics.v1.AnalyticsService` and `AnalyticsAdminService` with
//! the standard gRPC health service, and `/metrics` on its admin listener.
//!
//! - [`config`]: typed settings from flags and environment variables.
//! - [`startup`]: builds and runs the server and the consumer.
//! - [`handler`]: each event on the consumer's transaction; the dashboard
//!   cache generation bumped after the commit.
//! - [`projection`]: the read models and how each event changes them.
//! - [`dashboards`]: the school and teacher dashboards, the student summary,
//!   and the AnalyticsService.
//! - [`at_risk`]: the early-warning list.
//! - [`reports`]: the streamed attendance and fees reports.
//! - [`rebuild`]: one school's read models rebuilt from students-svc's export.
//! - [`domain`]: thresholds, school calendars, the clock, event field parsing.
//! - [`model`]: rows shared by dashboards and reports.

pub mod at_risk;
pub mod config;
pub mod course_grades;
pub mod dashboards;
pub mod domain;
pub mod handler;
pub mod model;
pub mod projection;
pub mod rebuild;
pub mod reports;
pub mod startup;

pub use config::{Cli, Command, Config};
pub use startup::{Application, MIGRATIONS};
