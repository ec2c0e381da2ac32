//! notify-svc over real Postgres and real Redis (standalone and cluster).

mod absence;
mod announcements;
mod config;
mod consumer;
mod delivery_admin;
mod email;
mod end_to_end;
mod health;
mod helpers;
mod inbox;
mod job_helpers;
mod jobs;
mod kill9;
mod notices;
mod projection;
mod provider;
mod sms_client;
