//! A timetable slot as stored, as the proto carries it, and its event.

use chrono::NaiveTime;
use proto::events::v1::{self as ev, event::Payload};
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

use super::domain::format_clock;
use crate::events::{Aggregate, Pending};

#[derive(Clone, Debug)]
pub struct SlotRow {
    pub id: Uuid,
    pub course_id: Uuid,
    pub weekday: i16,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub room: String,
}

pub(crate) const SLOT_COLS: &str = "id, course_id, weekday, start_time, end_time, room";

impl SlotRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            course_id: r.try_get(1)?,
            weekday: r.try_get(2)?,
            start: r.try_get(3)?,
            end: r.try_get(4)?,
            room: r.try_get(5)?,
        })
    }
}

pub fn slot(s: SlotRow) -> pb::TimetableSlot {
    pb::TimetableSlot {
        id: s.id.to_string(),
        course_id: s.course_id.to_string(),
        weekday: i32::from(s.weekday),
        start: format_clock(s.start),
        end: format_clock(s.end),
        room: s.room,
    }
}

/// The `course.timetable_slot_added` event of `slot`.
pub fn slot_added(slot: &SlotRow) -> Pending {
    Pending::new(
        Aggregate {
            kind: "course",
            id: slot.course_id,
        },
        "course.timetable_slot_added",
        Payload::TimetableSlotAdded(ev::TimetableSlotAdded {
            slot_id: slot.id.to_string(),
            course_id: slot.course_id.to_string(),
            weekday: i32::from(slot.weekday),
            start: format_clock(slot.start),
            end: format_clock(slot.end),
            room: slot.room.clone(),
        }),
    )
}
