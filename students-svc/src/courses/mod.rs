//! Courses: code, name, term, teacher and capacity (`CourseService`, which
//! also adds [`crate::timetable`] slots).

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
