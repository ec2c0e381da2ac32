//! Gateway tests: real HTTP against the gateway, which calls a real
//! students-svc over TCP, on a fresh database per test. `e2e` runs the four
//! real binaries as separate processes.

mod helpers;

mod auth;
mod cache;
mod e2e;
mod errors;
mod fees;
mod plumbing;
mod ratelimit;
mod rollout;
mod students;
mod traces;
