//! Gateway tests: real HTTP against the gateway, which calls a real
//! students-svc over TCP, on a fresh database per test. `e2e` runs the four
//! real binaries as separate processes.

mod helpers;

mod analytics;
mod announcements;
mod auth;
mod cache;
mod console;
mod courses;
mod e2e;
mod errors;
mod fees;
mod grades;
mod guardian_reads;
mod guardians;
mod import;
mod notification_templates;
mod notifications;
mod plumbing;
mod probes;
mod ratelimit;
mod report_cards;
mod rollout;
mod schools;
mod sessions;
mod students;
mod traces;
mod ws;
