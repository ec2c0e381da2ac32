//! students-svc integration tests: the real gRPC server in-process on port 0,
//! over TCP, against a fresh Postgres database per test.

mod helpers;
mod pgcount;

mod attendance;
mod auth;
mod courses;
mod enrolments;
mod events;
mod export;
mod fees;
mod grades;
mod guardian_reads;
mod guardians;
mod import;
mod list_statements;
mod schema;
mod schools;
mod staff;
mod students;
mod tls;
mod trust;
