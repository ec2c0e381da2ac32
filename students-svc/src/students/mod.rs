//! Students: records, search and paging, archive, and bulk CSV import
//! (`StudentService`).

pub mod api;
pub mod domain;
pub mod import;
pub mod model;
pub mod repo;
