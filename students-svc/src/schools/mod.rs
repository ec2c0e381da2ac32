//! Schools (tenants): creating one with its first admin (`SchoolService`).

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
