//! The dashboards and the student summary (AnalyticsService's reads of one
//! school's read models), and the gRPC service itself, which also answers
//! the early-warning list ([`crate::at_risk`]), every course's average
//! ([`crate::course_grades`]) and the reports ([`crate::reports`]).
//!
//! Every statement is bounded by the caller's school and by a small set of
//! rows (a school's counters, one day, 30 days, a year's months, the ten
//! lowest course averages, a teacher's courses, one student's rows), each
//! served by an index, so a dashboard costs the same in a school of 2,500
//! students as in a district of 100,000.

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
