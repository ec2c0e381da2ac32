//! Guardians: contacts, notification preferences, portal logins and links to
//! students (`GuardianService`).

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
