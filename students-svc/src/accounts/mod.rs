//! Accounts: signing in (`AuthService`) and staff logins (`UserService`).

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
