//! Courses, timetable slots, enrolments and attendance.
//!
//! - [`domain`]: validated values and the requests parsed into them.
//! - [`repo`]: SQL, always scoped by school id; state changes record their
//!   events in the same transaction.
//! - [`api`]: the `CourseService`, `EnrolmentService` and
//!   `AttendanceService` handlers.

pub mod api;
pub mod domain;
pub mod repo;
