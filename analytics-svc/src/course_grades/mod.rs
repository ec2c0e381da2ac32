//! Every course's average published grade (ListCourseGrades), by course
//! code, keyset-paged. The school dashboard carries only the lowest few,
//! so its size does not grow with the number of courses; this list is
//! where the rest are read.

pub mod domain;
pub mod repo;
