//! Assessments per course and their grades: bulk grade entry, drafts until
//! published, students reading their own published grades.
//!
//! - [`domain`]: validated values (points and weights in hundredths) and the
//!   requests parsed into them.
//! - [`repo`]: SQL, always scoped by school id; events in the same
//!   transaction.
//! - [`api`]: the `GradeService` handlers.

pub mod api;
pub mod domain;
pub mod repo;
