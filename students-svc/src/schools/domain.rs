//! A school's values (name, time zone, school year) and the SchoolService
//! requests parsed into them.

use chrono::NaiveDate;
use platform::caller::Role;
use platform::limits;
use platform::service::{nothing, ServiceError, Violations};
use proto::students::v1 as pb;

use crate::accounts::domain::NewUser;
use crate::values::{bounded_text, Email, NewPassword, PersonName, Slug};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolName(String);

impl SchoolName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, "school name", limits::SCHOOL_NAME_MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone name the server knows (e.g. `Pacific/Auckland`):
/// "today" and school days are counted in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeZone(String);

impl TimeZone {
    pub fn utc() -> Self {
        Self("UTC".into())
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() > 64 {
            return Err("time zone must be an IANA name such as Europe/London".into());
        }
        raw.parse::<chrono_tz::Tz>()
            .map(|tz| Self(tz.name().to_owned()))
            .map_err(|_| "time zone must be an IANA name such as Europe/London".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The day every school year starts: a day that exists in every year (so
/// not 29 February).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YearStart {
    month: u32,
    day: u32,
}

impl YearStart {
    /// 1 September.
    pub fn default_north() -> Self {
        Self { month: 9, day: 1 }
    }

    pub fn parse(month: u32, day: u32) -> Result<Self, String> {
        // 2023 is not a leap year: a day valid in it is valid every year.
        NaiveDate::from_ymd_opt(2023, month, day)
            .map(|_| Self { month, day })
            .ok_or_else(|| "the school year must start on a valid day of the year (month 1-12, not 29 February)".into())
    }

    pub fn month(self) -> i16 {
        self.month as i16
    }

    pub fn day(self) -> i16 {
        self.day as i16
    }
}

/// Time zone and school year, as given (defaults where absent).
fn settings(
    v: &mut Violations,
    time_zone: &str,
    month: u32,
    day: u32,
) -> (Option<TimeZone>, Option<YearStart>) {
    let zone = if time_zone.trim().is_empty() {
        None
    } else {
        v.take("time_zone", TimeZone::parse(time_zone))
    };
    let start = match (month, day) {
        (0, 0) => None,
        (m, d) => v.take("year_start_month", YearStart::parse(m, d)),
    };
    (zone, start)
}

pub struct NewSchool {
    pub name: SchoolName,
    pub slug: Slug,
    pub time_zone: TimeZone,
    pub year_start: YearStart,
    pub admin: NewUser,
}

impl TryFrom<pb::CreateSchoolRequest> for NewSchool {
    type Error = ServiceError;
    fn try_from(r: pb::CreateSchoolRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let name = v.take("name", SchoolName::parse(&r.name));
        let slug = v.take("slug", Slug::parse(&r.slug));
        let email = v.take("admin_email", Email::parse(&r.admin_email));
        let password = v.take("admin_password", NewPassword::parse(&r.admin_password));
        let full_name = v.take("admin_full_name", PersonName::parse(&r.admin_full_name));
        let (zone, start) = settings(&mut v, &r.time_zone, r.year_start_month, r.year_start_day);
        v.finish()?;
        match (name, slug, email, password, full_name) {
            (Some(name), Some(slug), Some(email), Some(password), Some(full_name)) => Ok(Self {
                name,
                slug,
                time_zone: zone.unwrap_or_else(TimeZone::utc),
                year_start: start.unwrap_or_else(YearStart::default_north),
                admin: NewUser {
                    email,
                    password,
                    full_name,
                    role: Role::Admin,
                },
            }),
            _ => Err(nothing()),
        }
    }
}

/// A change of the school's settings against `version`.
pub struct SettingsUpdate {
    pub version: i64,
    pub time_zone: Option<TimeZone>,
    pub year_start: Option<YearStart>,
}

impl TryFrom<pb::UpdateSchoolSettingsRequest> for SettingsUpdate {
    type Error = ServiceError;
    fn try_from(r: pb::UpdateSchoolSettingsRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        if r.version < 1 {
            v.add("version", "version is required (the one you read)");
        }
        let (time_zone, year_start) =
            settings(&mut v, &r.time_zone, r.year_start_month, r.year_start_day);
        if time_zone.is_none() && year_start.is_none() && v.is_clean() {
            v.add("time_zone", "nothing to change");
        }
        v.finish()?;
        Ok(Self {
            version: r.version,
            time_zone,
            year_start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            TimeZone::parse(" Pacific/Auckland ").unwrap().as_str(),
            "Pacific/Auckland"
        );
        assert!(TimeZone::parse("UTC").is_ok());
        for bad in ["Mars/Olympus", "", "+02:00", "pacific auckland"] {
            assert!(TimeZone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn school_years_start_on_a_day_of_every_year() {
        assert!(YearStart::parse(9, 1).is_ok());
        assert!(YearStart::parse(1, 31).is_ok());
        for (m, d) in [(2, 29), (2, 30), (13, 1), (0, 5), (4, 31)] {
            assert!(YearStart::parse(m, d).is_err(), "{m}-{d}");
        }
    }
}
