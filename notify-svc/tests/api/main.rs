//! notify-svc over real Postgres and real Redis (standalone and cluster).

mod absence;
mod consumer;
mod end_to_end;
mod health;
mod helpers;
mod projection;
