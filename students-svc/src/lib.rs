//! students-svc: the system of record, served over gRPC.
//!
//! Every resource is a folder of the same four files (docs/ARCHITECTURE.md,
//! "Add a resource"): `model.rs` (rows, their proto form and their events),
//! `domain.rs` (values, rules and the requests parsed into them), `repo.rs`
//! (SQL, always scoped by school id; state changes record their events in
//! the same transaction) and `api.rs` (one struct per gRPC service).
//!
//! - [`schools`] (`SchoolService`), [`accounts`] (`AuthService`,
//!   `UserService`), [`students`] (`StudentService`, with CSV import),
//!   [`guardians`] (`GuardianService`), [`staff`] (`StaffService`),
//!   [`courses`] (`CourseService`), [`timetable`] (its slots),
//!   [`enrolments`] (`EnrolmentService`), [`attendance`]
//!   (`AttendanceService`), [`grades`] (`GradeService`), [`fees`]
//!   (`FeeService`); [`export`] (`ExportService`: a school's state as
//!   events, for read models elsewhere).
//!
//! Shared by the resources, importing none of them:
//! - [`values`]: domain values several resources use (names, e-mail, ...).
//! - [`authz`]: who may do what; course access.
//! - [`events`]: domain events into the outbox, in the caller's transaction.
//! - [`passwords`]: argon2id on the blocking pool.
//! - [`relay`]: publishes the outbox to Redis Streams, one stream per school.
//! - [`config`], [`startup`]: flags and environment; migrations, pool,
//!   listener, `Application::run_until`.

pub mod accounts;
pub mod attendance;
pub mod authz;
pub mod config;
pub mod courses;
pub mod enrolments;
pub mod events;
pub mod export;
pub mod fees;
pub mod grades;
pub mod guardians;
pub mod passwords;
pub mod relay;
pub mod schools;
pub mod staff;
pub mod startup;
pub mod students;
pub mod timetable;
pub mod values;

/// What every gRPC handler returns.
pub(crate) type Reply<T> = Result<tonic::Response<T>, tonic::Status>;
