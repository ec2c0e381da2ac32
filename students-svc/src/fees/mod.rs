//! Fees: invoices with line items, payments applied at most once per
//! idempotency key, and balances per student.
//!
//! - [`domain`]: validated values (amounts, currencies, keys); repositories
//!   accept only these.
//! - [`requests`]: proto requests parsed into [`domain`] types, every field
//!   error collected.
//! - [`repo`]: SQL, always scoped by school id; events in the same
//!   transaction.
//! - [`convert`]: rows → proto messages and event payloads.
//! - [`api`]: the `FeeService` gRPC handlers.

pub mod api;
pub mod convert;
pub mod domain;
pub mod repo;
pub mod requests;
