//! Fees: invoices with line items, payments applied at most once per
//! idempotency key, and balances per student (`FeeService`).

pub mod api;
pub mod domain;
pub mod model;
pub mod repo;
