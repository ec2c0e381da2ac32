//! Accounts: signing in (`AuthService`) and staff logins (`UserService`).

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
pub mod revocations;
pub mod sessions;
pub mod throttle;
