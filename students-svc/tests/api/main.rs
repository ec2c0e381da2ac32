//! students-svc integration tests: the real gRPC server in-process on port 0,
//! over TCP, against a fresh Postgres database per test.

mod helpers;

mod auth;
mod events;
mod fees;
mod schema;
mod students;
