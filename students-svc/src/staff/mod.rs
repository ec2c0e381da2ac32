//! Teacher profiles: phone, subjects, employee number, hire date
//! (`StaffService`).

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
