//! Timetable slots of a course: when and where it meets, with no room or
//! teacher booked twice in a term. Served by `CourseService`
//! ([`crate::courses::api`]); a slot has no service of its own.

pub mod domain;
pub mod model;
pub mod repo;
