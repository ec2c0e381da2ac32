//! The admin reports (AttendanceReport, FeesReport): rows streamed as they
//! are read, in date chunks of at most a month, so a report is never held
//! whole in memory and a client that goes away stops the reading.

pub mod domain;
pub mod repo;
