//! The early-warning list (ListAtRisk): the `at_risk` rows the projection
//! keeps current, paged in name order with keyset cursors, narrowed by
//! reason, grade and course; a teacher sees only students of their courses.

pub mod domain;
pub mod repo;
