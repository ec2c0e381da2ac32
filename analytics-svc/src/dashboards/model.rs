//! Rows as read and their proto forms.

use tokio_postgres::Row;

use crate::domain::Calendar;
pub use crate::model::{average, count, course_grade, fees_month, Counts};

/// A school's settings and counters (defaults when no event arrived yet).
pub struct SchoolRow {
    pub calendar: Calendar,
    pub time_zone: String,
    pub active_students: i32,
    pub staff: i32,
    pub courses: i32,
    pub at_risk: i32,
}

impl SchoolRow {
    pub const COLS: &'static str =
        "time_zone, year_start_month, year_start_day, active_students, staff, courses, at_risk";

    pub fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        let time_zone: String = r.try_get(0)?;
        Ok(Self {
            calendar: Calendar::new(&time_zone, r.try_get(1)?, r.try_get(2)?),
            time_zone,
            active_students: r.try_get(3)?,
            staff: r.try_get(4)?,
            courses: r.try_get(5)?,
            at_risk: r.try_get(6)?,
        })
    }

    pub fn empty() -> Self {
        Self {
            calendar: Calendar::new("UTC", 9, 1),
            time_zone: "UTC".into(),
            active_students: 0,
            staff: 0,
            courses: 0,
            at_risk: 0,
        }
    }
}
