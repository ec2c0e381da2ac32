//! Notice templates: the built-in English set, a school's overrides per
//! kind and language (`notification_templates`), and the admin-only
//! NotificationTemplateService that reads and saves them.

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;

pub use domain::{money, points, Lang, NoticeKind, Rendered, Template, TemplateError};
