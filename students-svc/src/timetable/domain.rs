//! Weekdays, clock times and rooms, and the slot request parsed into them.

use chrono::{NaiveTime, Timelike};
use platform::service::{nothing, ServiceError, Violations};
use proto::students::v1 as pb;
use uuid::Uuid;

use crate::values::{bounded_text as text, uuid};

/// ISO weekday: 1 = Monday … 7 = Sunday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weekday(i16);

impl Weekday {
    pub fn parse(raw: i32) -> Result<Self, String> {
        if (1..=7).contains(&raw) {
            Ok(Self(raw as i16))
        } else {
            Err("weekday must be between 1 (Monday) and 7 (Sunday)".into())
        }
    }
    pub fn get(self) -> i16 {
        self.0
    }
}

/// `HH:MM`, 24-hour clock, exactly five characters.
pub fn clock(raw: &str) -> Result<NaiveTime, String> {
    let b = raw.as_bytes();
    let shaped = b.len() == 5
        && b[2] == b':'
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[3..].iter().all(u8::is_ascii_digit);
    shaped
        .then(|| NaiveTime::parse_from_str(raw, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| "must be a time formatted HH:MM (00:00-23:59)".to_owned())
}

pub fn format_clock(t: NaiveTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room(String);

impl Room {
    pub fn parse(raw: &str) -> Result<Self, String> {
        text(raw, "room", platform::limits::ROOM_MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub struct NewSlot {
    pub course_id: Uuid,
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub room: Room,
}

impl TryFrom<pb::AddTimetableSlotRequest> for NewSlot {
    type Error = ServiceError;
    fn try_from(r: pb::AddTimetableSlotRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let course_id = v.take("course_id", uuid(&r.course_id));
        let weekday = v.take("weekday", Weekday::parse(r.weekday));
        let start = v.take("start", clock(&r.start));
        let end = v.take("end", clock(&r.end));
        let room = v.take("room", Room::parse(&r.room));
        if let (Some(s), Some(e)) = (start, end) {
            if s >= e {
                v.add("end", "end must be after start");
            }
        }
        v.finish()?;
        match (course_id, weekday, start, end, room) {
            (Some(course_id), Some(weekday), Some(start), Some(end), Some(room)) => Ok(Self {
                course_id,
                weekday,
                start,
                end,
                room,
            }),
            _ => Err(nothing()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_weekdays() {
        assert_eq!(format_clock(clock("09:05").unwrap()), "09:05");
        assert!(clock("23:59").is_ok());
        for bad in ["24:00", "9:05", "09:60", "09:05:00", "ab:cd", ""] {
            assert!(clock(bad).is_err(), "{bad}");
        }
        assert!(Weekday::parse(1).is_ok() && Weekday::parse(7).is_ok());
        assert!(Weekday::parse(0).is_err() && Weekday::parse(8).is_err());
    }
}
