//! Attendance: a teacher's marks and the office's overrides per session,
//! audited, and attendance read per session or per student
//! (`AttendanceService`).

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
