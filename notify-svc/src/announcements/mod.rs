//! Announcements (AnnouncementService): an admin's or a teacher's title and
//! body for the guardians of an audience (the whole school, grade levels,
//! courses, chosen guardians). Creating one checks who may send to whom,
//! that the audience has someone in it and the school's daily quota, then
//! answers at once; the fan-out runs as `announcement` jobs in the delivery
//! queue, one batch of guardians per job ([`fanout`]), each guardian once
//! (the dedupe key `announcement:<id>`) however many of their children are
//! in the audience. Progress per channel is a grouped count of the
//! deliveries, which carry the announcement's id.

pub mod api;
pub mod config;
pub mod domain;
pub mod fanout;
pub mod model;
pub mod repo;
