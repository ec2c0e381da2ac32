//! Report cards (ReportCardService): a PDF of one student's term. An admin
//! asks for one student's card or a whole grade level's (a batch); each
//! card is a `report_card` job in the delivery queue ([`runner`]), so it
//! has the queue's retries and dead state. The job fetches the student's
//! summary from analytics-svc over gRPC (asking as the student: published
//! grades only, what the card's readers may see), keeps the courses of the
//! card's term, renders the PDF ([`render`], at most the configured number
//! at once) and stores it ([`store`]). Each status change is pushed to the
//! requesting admin's WebSockets (`report_card.updated`).
//!
//! A term is a course term (`YYYY-Tn`, the one students-svc gives every
//! course): the card lists the student's current courses of that term. A
//! term with no graded course gives a card that says so.

pub mod api;
pub mod config;
pub mod domain;
pub mod model;
pub mod render;
pub mod repo;
pub mod runner;
pub mod store;
