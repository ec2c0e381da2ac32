//! Enrolments: a student in a course, within its capacity
//! (`EnrolmentService`).

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
