//! notify-svc: notifications, delivery jobs and documents.
//!
//! It owns the `notify` schema (migrated at start-up), serves the standard
//! gRPC health service and `/metrics` on its admin listener, and consumes
//! domain events with a [`platform::events::Consumer`] (group `notify`):
//!
//! - [`config`]: typed settings from flags and environment variables.
//! - [`startup`]: builds and runs the server and the consumer.
//! - [`handler`]: what each event does, on the consumer's transaction.
//! - [`domain`]: event payloads parsed into domain types.
//! - [`projection`]: guardians, guardian↔student links, students, courses,
//!   enrolments, schools, invoices.
//! - [`absence`]: absence alerts, one per guardian, student and session.
//! - [`notifications`]: the notification row shared by every kind.
//! - [`deliveries`]: a new notification's SMS and push jobs.
//! - [`delivery_admin`]: failed deliveries for a school's admins, and retries.
//! - [`inbox`]: the NotificationService a recipient reads their inbox with.
//! - [`jobs`]: the durable delivery queue (SMS, realtime push) and workers.
//! - [`sms`]: the SMS provider client.
//! - [`email`]: the SMTP client (e-mail channel).
//! - [`templates`]: notice wording (built-in English, school overrides).
//! - [`notices`]: grade, invoice, overdue and receipt notices from events.
//! - [`reminders`]: the daily overdue-invoice check (scheduled jobs).
//! - [`announcements`]: announcements to an audience's guardians, fanned
//!   out by jobs, with a daily quota per school.
//! - [`report_cards`]: report-card PDFs rendered by jobs from analytics-svc's
//!   student summary.

pub mod absence;
pub mod announcements;
pub mod config;
pub mod deliveries;
pub mod delivery_admin;
pub mod domain;
pub mod email;
pub mod handler;
pub mod inbox;
pub mod jobs;
pub mod notices;
pub mod notifications;
pub mod projection;
pub mod reminders;
pub mod report_cards;
pub mod sms;
pub mod startup;
pub mod templates;

pub use config::Config;
pub use startup::{Application, MIGRATIONS};
