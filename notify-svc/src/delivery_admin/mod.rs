//! Failed deliveries for a school's admins (DeliveryAdminService): the
//! school's `dead` and `failed` delivery jobs with masked recipients, and
//! requeueing them one by one or all at once.

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
