//! Report requests, parsed with every field error collected.

use chrono::NaiveDate;
use platform::service::{ServiceError, Violations};
use proto::{analytics::v1 as pb, common::v1 as common};
use uuid::Uuid;

/// Most days one report covers (both ends included).
pub const MAX_DAYS: i64 = 366;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

fn date(v: &mut Violations, field: &str, d: Option<&common::Date>) -> Option<NaiveDate> {
    let Some(d) = d else {
        v.add(field, "is required");
        return None;
    };
    let parsed = NaiveDate::from_ymd_opt(d.year, d.month, d.day);
    if parsed.is_none() {
        v.add(field, "must be a valid date");
    }
    parsed
}

fn range(
    v: &mut Violations,
    from: Option<&common::Date>,
    to: Option<&common::Date>,
) -> Option<Range> {
    let (from, to) = (date(v, "from", from), date(v, "to", to));
    let (from, to) = (from?, to?);
    if to < from {
        v.add("to", "must not be before from");
        return None;
    }
    if (to - from).num_days() + 1 > MAX_DAYS {
        v.add("to", format!("a report covers at most {MAX_DAYS} days"));
        return None;
    }
    Some(Range { from, to })
}

#[derive(Debug)]
pub struct AttendanceQuery {
    pub range: Range,
    pub grade_level: Option<i32>,
    pub course: Option<Uuid>,
}

impl TryFrom<pb::AttendanceReportRequest> for AttendanceQuery {
    type Error = ServiceError;

    fn try_from(r: pb::AttendanceReportRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let range = range(&mut v, r.from.as_ref(), r.to.as_ref());
        if let Some(g) = r.grade_level {
            if !(0..=12).contains(&g) {
                v.add("grade_level", "grade_level must be between 0 and 12");
            }
        }
        let course = if r.course_id.is_empty() {
            None
        } else {
            v.take(
                "course_id",
                platform::text::parse_uuid(&r.course_id).ok_or_else(|| "must be a UUID".to_owned()),
            )
        };
        v.finish()?;
        let range = range.ok_or_else(platform::service::nothing)?;
        Ok(Self {
            range,
            grade_level: r.grade_level,
            course,
        })
    }
}

impl TryFrom<pb::FeesReportRequest> for Range {
    type Error = ServiceError;

    fn try_from(r: pb::FeesReportRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let range = range(&mut v, r.from.as_ref(), r.to.as_ref());
        v.finish()?;
        range.ok_or_else(platform::service::nothing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<common::Date> {
        Some(common::Date {
            year: y,
            month: m,
            day,
        })
    }

    fn fields(e: ServiceError) -> Vec<String> {
        match e {
            ServiceError::Invalid(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ranges_cover_at_most_366_days() {
        let ok = pb::FeesReportRequest {
            from: d(2024, 1, 1),
            to: d(2024, 12, 31),
        };
        assert!(Range::try_from(ok).is_ok());
        let long = pb::FeesReportRequest {
            from: d(2023, 1, 1),
            to: d(2024, 1, 2),
        };
        assert_eq!(fields(Range::try_from(long).unwrap_err()), ["to"]);
        let bad = pb::FeesReportRequest {
            from: d(2023, 2, 30),
            to: None,
        };
        assert_eq!(fields(Range::try_from(bad).unwrap_err()), ["from", "to"]);
    }
}
