//! Values every area shares: the early-warning thresholds, a school's
//! calendar (time zone, school year), the injectable clock, and the parsing
//! of event fields. Imports nothing from the crate, so any module may use it.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use uuid::Uuid;

/// When a student is at risk. Rates and averages are hundredths of a
/// percent, like the API's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Attendance over the last 30 school days below this: CHRONIC_ABSENCE.
    pub chronic_rate: i32,
    /// Absent this many school days in a row or more: CONSECUTIVE_ABSENCES.
    pub consecutive_days: i32,
    /// A course average below this: LOW_GRADE.
    pub low_average: i32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            chronic_rate: 9000,
            consecutive_days: 3,
            low_average: 6000,
        }
    }
}

/// How the projection judges risk: the thresholds, and whether judging is
/// deferred. A rebuild defers it and judges every student of the school
/// once at the end ([`Risk::deferred`]): the early-warning table is a
/// function of the other read models (the property tests prove the
/// incremental table equals it), so one judgement over the rebuilt models
/// equals thousands of per-event ones, at a fraction of their cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Risk {
    pub thresholds: Thresholds,
    pub deferred: bool,
}

impl Risk {
    pub fn judging(thresholds: Thresholds) -> Self {
        Self {
            thresholds,
            deferred: false,
        }
    }

    pub fn deferred(thresholds: Thresholds) -> Self {
        Self {
            thresholds,
            deferred: true,
        }
    }
}

/// The school days a window covers: the school's latest 30 dates with marks.
pub const WINDOW_DAYS: i64 = 30;

/// "Now", injectable so tests fix the instant "today" is computed from.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(Utc::now))
    }

    /// Always `at` (tests).
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Arc::new(move || at))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// A school's calendar as its settings say.
#[derive(Clone, Debug)]
pub struct Calendar {
    pub zone: chrono_tz::Tz,
    pub year_start_month: u32,
    pub year_start_day: u32,
}

impl Calendar {
    /// From stored settings. A zone students-svc accepted but this build's
    /// tz database does not know falls back to UTC rather than failing
    /// every read of the school.
    pub fn new(zone: &str, month: i16, day: i16) -> Self {
        Self {
            zone: zone.parse().unwrap_or(chrono_tz::UTC),
            year_start_month: u32::try_from(month)
                .ok()
                .filter(|m| (1..=12).contains(m))
                .unwrap_or(9),
            year_start_day: u32::try_from(day)
                .ok()
                .filter(|d| (1..=31).contains(d))
                .unwrap_or(1),
        }
    }

    /// The school's date at `now`.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.zone).date_naive()
    }

    /// The first day of the school year `day` is in. A start day the month
    /// lacks (30 February) is that month's last day.
    pub fn year_start(&self, day: NaiveDate) -> NaiveDate {
        let start_in = |year: i32| {
            (1..=self.year_start_day)
                .rev()
                .find_map(|d| NaiveDate::from_ymd_opt(year, self.year_start_month, d))
                .unwrap_or(day)
        };
        let this = start_in(day.year());
        if this <= day {
            this
        } else {
            start_in(day.year() - 1)
        }
    }
}

/// The first day of `day`'s month.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// A required id in an event: an error names the field.
pub fn id(field: &str, raw: &str) -> anyhow::Result<Uuid> {
    platform::text::parse_uuid(raw).ok_or_else(|| anyhow::anyhow!("{field} is not a UUID: {raw:?}"))
}

/// An optional id in an event (empty = none).
pub fn opt_id(field: &str, raw: &str) -> anyhow::Result<Option<Uuid>> {
    if raw.is_empty() {
        Ok(None)
    } else {
        id(field, raw).map(Some)
    }
}

/// A required `YYYY-MM-DD` date in an event.
pub fn date(field: &str, raw: &str) -> anyhow::Result<NaiveDate> {
    platform::text::parse_date(raw).ok_or_else(|| anyhow::anyhow!("{field} is not a date: {raw:?}"))
}

/// An optional date in an event (empty = none).
pub fn opt_date(field: &str, raw: &str) -> anyhow::Result<Option<NaiveDate>> {
    if raw.is_empty() {
        Ok(None)
    } else {
        date(field, raw).map(Some)
    }
}

/// (present + late) / marked in hundredths of a percent; 0 when none.
pub fn rate(present: i64, absent: i64, late: i64, excused: i64) -> u32 {
    let marked = present + absent + late + excused;
    if marked <= 0 {
        return 0;
    }
    u32::try_from(((present + late) * 10_000 + marked / 2) / marked).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_school_year_starts_on_the_schools_day() {
        let north = Calendar::new("Europe/London", 9, 1);
        assert_eq!(north.year_start(d("2026-12-04")), d("2026-09-01"));
        assert_eq!(north.year_start(d("2026-08-31")), d("2025-09-01"));
        let south = Calendar::new("Pacific/Auckland", 2, 30);
        assert_eq!(south.year_start(d("2026-03-01")), d("2026-02-28"));
        assert_eq!(south.year_start(d("2026-01-10")), d("2025-02-28"));
    }

    #[test]
    fn today_is_the_schools_date() {
        let at: DateTime<Utc> = "2026-03-10T20:00:00Z".parse().unwrap();
        assert_eq!(
            Calendar::new("Pacific/Auckland", 2, 1).today(at),
            d("2026-03-11")
        );
        assert_eq!(
            Calendar::new("America/Los_Angeles", 9, 1).today(at),
            d("2026-03-10")
        );
        assert_eq!(Calendar::new("Not/AZone", 9, 1).today(at), d("2026-03-10"));
    }

    #[test]
    fn rates_round_and_treat_nothing_as_zero() {
        assert_eq!(rate(2, 1, 0, 0), 6667);
        assert_eq!(rate(0, 0, 0, 0), 0);
        assert_eq!(rate(1, 0, 1, 0), 10_000);
    }
}
