//! Read-model rows shared by the dashboards and the reports, and their
//! proto forms.

use chrono::NaiveDate;
use proto::analytics::v1 as pb;
use tokio_postgres::Row;

use crate::domain::rate;

/// Present, absent, late, excused (sessions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub present: i64,
    pub absent: i64,
    pub late: i64,
    pub excused: i64,
}

impl Counts {
    /// From four integer columns starting at `at` (int4 or int8).
    pub fn from_row(r: &Row, at: usize) -> Result<Self, tokio_postgres::Error> {
        let get = |i: usize| -> Result<i64, tokio_postgres::Error> {
            match r.try_get::<_, Option<i64>>(i) {
                Ok(v) => Ok(v.unwrap_or(0)),
                Err(_) => Ok(i64::from(r.try_get::<_, Option<i32>>(i)?.unwrap_or(0))),
            }
        };
        Ok(Self {
            present: get(at)?,
            absent: get(at + 1)?,
            late: get(at + 2)?,
            excused: get(at + 3)?,
        })
    }

    pub fn rate(&self) -> u32 {
        rate(self.present, self.absent, self.late, self.excused)
    }

    pub fn to_proto(self, date: Option<NaiveDate>) -> pb::AttendanceCounts {
        let n = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
        pb::AttendanceCounts {
            date: date
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            present: n(self.present),
            absent: n(self.absent),
            late: n(self.late),
            excused: n(self.excused),
            rate: self.rate(),
        }
    }
}

/// `month, currency, billed, collected, outstanding`.
pub fn fees_month(r: &Row) -> Result<pb::FeesMonth, tokio_postgres::Error> {
    let month: NaiveDate = r.try_get(0)?;
    Ok(pb::FeesMonth {
        month: month.format("%Y-%m").to_string(),
        currency: r.try_get(1)?,
        billed: r.try_get(2)?,
        collected: r.try_get(3)?,
        outstanding: r.try_get(4)?,
    })
}

/// A stored count (int4, never negative by its CHECK) as the proto's u32.
pub fn count(v: i32) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(0)
}

/// A share (sum of hundredths) over a number of grades, rounded.
pub fn average(sum: i64, n: i64) -> u32 {
    if n <= 0 {
        return 0;
    }
    u32::try_from((sum * 2 + n) / (2 * n)).unwrap_or(0)
}

/// A `course_id, code, name, pct_sum, grades` row as a course's average.
pub fn course_grade(r: &Row) -> Result<pb::CourseGrade, tokio_postgres::Error> {
    let (sum, n): (i64, i32) = (r.try_get(3)?, r.try_get(4)?);
    Ok(pb::CourseGrade {
        course_id: r.try_get::<_, uuid::Uuid>(0)?.to_string(),
        code: r.try_get(1)?,
        name: r.try_get(2)?,
        average: average(sum, i64::from(n)),
        grades: count(n),
    })
}
