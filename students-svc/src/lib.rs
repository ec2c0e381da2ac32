//! students-svc: the system of record, served over gRPC.
//!
//! - [`config`]: flags / environment.
//! - [`startup`]: migrations, pool, listener; `Application::run_until`.
//! - [`api`]: gRPC handlers (caller → parse → authorise → repo → reply).
//! - [`requests`]: proto requests parsed into [`domain`] types.
//! - [`domain`]: validated values; repositories accept only these.
//! - [`repo`]: SQL, always scoped by school id.
//! - [`convert`]: rows → proto messages.
//! - [`relay`]: publishes the outbox to Redis Streams, one stream per school.
//! - [`courses`]: courses, timetable, enrolments and attendance (domain,
//!   repo and handlers in one module).
//! - [`passwords`]: argon2id on the blocking pool.
//! - [`events`]: domain events into the outbox, in the caller's transaction.
//! - [`import`]: bulk CSV import of students, row-by-row error report.
//! - [`fees`]: invoices, idempotent payments and balances (`FeeService`).
//! - [`grades`]: assessments per course, bulk grade entry, publishing
//!   (`GradeService`).
//! - [`error`]: `ServiceError` and its mapping to gRPC status.
//! - [`guardians`]: guardians, their student links and logins (GuardianService).
//! - [`staff`]: teacher profiles (StaffService).

pub mod api;
pub mod authz;
pub mod config;
pub mod convert;
pub mod courses;
pub mod domain;
pub mod error;
pub mod events;
pub mod fees;
pub mod grades;
pub mod guardians;
pub mod import;
pub mod passwords;
pub mod relay;
pub mod repo;
pub mod requests;
pub mod staff;
pub mod startup;
