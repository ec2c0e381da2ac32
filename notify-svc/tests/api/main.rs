//! notify-svc over real Postgres and real Redis (standalone and cluster).

mod absence;
mod consumer;
mod health;
mod helpers;
