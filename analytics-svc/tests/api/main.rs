//! analytics-svc over real Postgres and real Redis (standalone and cluster).

mod authz;
mod consumer;
mod dashboards;
mod end_to_end;
mod health;
mod helpers;
mod newest_wins;
mod property;
mod rebuild;
mod reports;
mod time_zones;
