//! Assessments per course and their grades: bulk grade entry, drafts until
//! published, students reading their own published grades (`GradeService`).
//! Points and weights are kept in hundredths.

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
