//! Guardians: contacts, notification preferences, portal logins and links to
//! students. Same layering as the crate root: [`api`] (gRPC handlers) →
//! [`requests`] (proto → [`domain`]) → [`repo`] (SQL, always by school id),
//! [`convert`] (rows → proto and event payloads).

pub mod api;
pub mod convert;
pub mod domain;
pub mod repo;
pub mod requests;
