//! JSON shapes of schools (tenants) and their proto conversions.

use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::User;
use super::{uuid_or_nil, FieldErrors};
use crate::problem::ApiError;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdmin {
    pub email: String,
    pub password: String,
    pub full_name: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSchoolBody {
    pub name: String,
    /// 3-40 of a-z, 0-9, '-': what users type at login.
    pub slug: String,
    pub admin: NewAdmin,
    /// IANA time zone name (e.g. `Pacific/Auckland`); default `UTC`. The
    /// school's days ("today", attendance days) are counted in it.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The month (1-12) the school year starts; with `year_start_day`.
    /// Default: 1 September.
    #[serde(default)]
    pub year_start_month: Option<u32>,
    /// The day (1-31, valid in that month in every year) the school year
    /// starts; with `year_start_month`.
    #[serde(default)]
    pub year_start_day: Option<u32>,
}

impl CreateSchoolBody {
    pub fn into_proto(self) -> Result<pb::CreateSchoolRequest, ApiError> {
        let settings = Settings::parse(
            self.time_zone.as_deref(),
            self.year_start_month,
            self.year_start_day,
        )?;
        Ok(pb::CreateSchoolRequest {
            name: self.name,
            slug: self.slug,
            admin_email: self.admin.email,
            admin_password: self.admin.password,
            admin_full_name: self.admin.full_name,
            time_zone: settings.time_zone,
            year_start_month: settings.year_start_month,
            year_start_day: settings.year_start_day,
        })
    }
}

/// Change the school's settings; only the fields present change. `version`
/// is the one you read (stale → 409).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSchoolBody {
    pub version: i64,
    /// IANA time zone name (e.g. `America/Los_Angeles`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// 1-12; sent together with `year_start_day`.
    #[serde(default)]
    pub year_start_month: Option<u32>,
    /// 1-31 (a day of that month in every year: not 29 February); sent
    /// together with `year_start_month`.
    #[serde(default)]
    pub year_start_day: Option<u32>,
}

impl UpdateSchoolBody {
    pub fn into_proto(self) -> Result<pb::UpdateSchoolSettingsRequest, ApiError> {
        let settings = Settings::parse(
            self.time_zone.as_deref(),
            self.year_start_month,
            self.year_start_day,
        )?;
        Ok(pb::UpdateSchoolSettingsRequest {
            version: self.version,
            time_zone: settings.time_zone,
            year_start_month: settings.year_start_month,
            year_start_day: settings.year_start_day,
        })
    }
}

/// The settings as proto carries them (empty / 0: not given), checked at
/// the edge where one value suffices. students-svc checks them again, and
/// alone knows the rules relating month and day (29 February).
struct Settings {
    time_zone: String,
    year_start_month: u32,
    year_start_day: u32,
}

impl Settings {
    fn parse(zone: Option<&str>, month: Option<u32>, day: Option<u32>) -> Result<Self, ApiError> {
        let mut e = FieldErrors::default();
        // Exactly a name chrono-tz knows, untrimmed: the names the OpenAPI
        // document lists (students-svc would also take one with spaces).
        if let Some(z) = zone {
            if z.parse::<chrono_tz::Tz>().is_err() {
                e.add(
                    "time_zone",
                    "must be an IANA time zone name such as Europe/London",
                );
            }
        }
        if month.is_some_and(|m| !(1..=12).contains(&m)) {
            e.add("year_start_month", "must be between 1 and 12");
        }
        if day.is_some_and(|d| !(1..=31).contains(&d)) {
            e.add("year_start_day", "must be between 1 and 31");
        }
        // proto reads 0 as "keep": one without the other would be a
        // different request than the one sent.
        match (month, day) {
            (Some(_), None) => e.add("year_start_day", "is required with year_start_month"),
            (None, Some(_)) => e.add("year_start_month", "is required with year_start_day"),
            _ => {}
        }
        e.finish()?;
        Ok(Self {
            time_zone: zone.unwrap_or_default().to_owned(),
            year_start_month: month.unwrap_or(0),
            year_start_day: day.unwrap_or(0),
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct School {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    /// IANA time zone name: "today" and school days are counted in it.
    pub time_zone: String,
    /// The school year starts on this month (1-12) and day every year.
    pub year_start_month: u32,
    pub year_start_day: u32,
    /// Send back with PATCH; a stale version answers 409.
    pub version: i64,
}

impl From<pb::School> for School {
    fn from(s: pb::School) -> Self {
        Self {
            id: uuid_or_nil(&s.id),
            name: s.name,
            slug: s.slug,
            time_zone: s.time_zone,
            year_start_month: s.year_start_month,
            year_start_day: s.year_start_day,
            version: s.version,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedSchool {
    pub school: School,
    pub admin: User,
}

impl From<pb::CreateSchoolResponse> for CreatedSchool {
    fn from(r: pb::CreateSchoolResponse) -> Self {
        Self {
            school: r.school.unwrap_or_default().into(),
            admin: r.admin.unwrap_or_default().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(r: Result<Settings, ApiError>) -> Vec<String> {
        match r {
            Err(ApiError::Validation(f)) => f.into_iter().map(|f| f.field).collect(),
            Err(other) => panic!("{other}"),
            Ok(_) => Vec::new(),
        }
    }

    #[test]
    fn settings_are_checked_at_the_edge() {
        assert!(fields(Settings::parse(Some("Pacific/Auckland"), Some(2), Some(1))).is_empty());
        assert!(fields(Settings::parse(None, None, None)).is_empty());
        assert_eq!(
            fields(Settings::parse(Some("Mars/Olympus"), None, None)),
            ["time_zone"]
        );
        assert_eq!(
            fields(Settings::parse(Some(" UTC"), None, None)),
            ["time_zone"]
        );
        assert_eq!(
            fields(Settings::parse(None, Some(13), Some(1))),
            ["year_start_month"]
        );
        assert_eq!(
            fields(Settings::parse(None, Some(3), None)),
            ["year_start_day"]
        );
        assert_eq!(
            fields(Settings::parse(None, None, Some(0))),
            ["year_start_day", "year_start_month"]
        );
    }
}
