//! NotificationService: a user's own inbox. Every statement is scoped to the
//! caller's school and user, so another user's notification is NOT_FOUND.

mod api;
mod domain;
mod model;
mod repo;

pub use api::InboxApi;
