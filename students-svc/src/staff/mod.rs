//! Teacher profiles: phone, subjects, employee number, hire date. [`api`]
//! (gRPC handlers) → [`domain`] (validated values, parsed from proto) →
//! [`repo`] (SQL, always by school id).

pub mod api;
pub mod domain;
pub mod repo;
