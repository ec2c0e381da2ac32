//! A student's values and rules, and the StudentService requests parsed
//! into them (every field error collected).

use chrono::{NaiveDate, Utc};
use platform::limits;
use platform::paging::{self, Keyset};
use platform::service::{nothing, ServiceError, Violations};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use uuid::Uuid;

use crate::values::{Email, NewLogin, NewPassword, PersonName};

/// School-assigned admission number: 1–32 of letters, digits, `-`, `/`, `.`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmissionNo(String);

impl AdmissionNo {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let ok = (1..=limits::ADMISSION_NO_MAX).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'.'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("admission number must be 1-32 of letters, digits, '-', '/', '.'".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 0 (kindergarten) to 12.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GradeLevel(i16);

impl GradeLevel {
    pub fn parse(raw: i32) -> Result<Self, String> {
        if (limits::GRADE_LEVEL_MIN..=limits::GRADE_LEVEL_MAX).contains(&raw) {
            Ok(Self(raw as i16))
        } else {
            Err("grade level must be between 0 and 12".into())
        }
    }
    pub fn get(self) -> i16 {
        self.0
    }
}

/// Class section within a grade ("A", "Blue"); empty means none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section(String);

impl Section {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.chars().count() > limits::SECTION_MAX
            || !s.chars().all(|c| c.is_alphanumeric() || c == '-')
        {
            return Err("section must be at most 16 letters, digits or '-'".into());
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A date of birth: a real calendar date, not in the future, not before 1900.
pub fn date_of_birth(d: Option<&common::Date>, today: NaiveDate) -> Result<NaiveDate, String> {
    let d = d.ok_or("date of birth is required")?;
    let date = u32::try_from(d.year)
        .ok()
        .and_then(|_| NaiveDate::from_ymd_opt(d.year, d.month, d.day))
        .ok_or("date of birth is not a valid calendar date")?;
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if date < earliest || date > today {
        return Err("date of birth must be between 1900-01-01 and today".into());
    }
    Ok(date)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StudentStatus {
    Active,
    Graduated,
    Withdrawn,
}

impl StudentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Graduated => "graduated",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn from_db(s: &str) -> Self {
        match s {
            "graduated" => Self::Graduated,
            "withdrawn" => Self::Withdrawn,
            _ => Self::Active,
        }
    }

    /// `None` for UNSPECIFIED; an unknown number is an error.
    pub fn from_proto(v: i32) -> Result<Option<Self>, String> {
        match pb::StudentStatus::try_from(v) {
            Ok(pb::StudentStatus::Unspecified) => Ok(None),
            Ok(pb::StudentStatus::Active) => Ok(Some(Self::Active)),
            Ok(pb::StudentStatus::Graduated) => Ok(Some(Self::Graduated)),
            Ok(pb::StudentStatus::Withdrawn) => Ok(Some(Self::Withdrawn)),
            Err(_) => Err("status must be active, graduated or withdrawn".into()),
        }
    }

    pub fn to_proto(self) -> pb::StudentStatus {
        match self {
            Self::Active => pb::StudentStatus::Active,
            Self::Graduated => pb::StudentStatus::Graduated,
            Self::Withdrawn => pb::StudentStatus::Withdrawn,
        }
    }
}

pub struct NewStudent {
    pub admission_no: AdmissionNo,
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub date_of_birth: NaiveDate,
    pub grade_level: GradeLevel,
    pub section: Section,
    pub status: StudentStatus,
    pub login: Option<NewLogin>,
}

/// Fields to change; `None` keeps the stored value.
#[derive(Default)]
pub struct StudentPatch {
    pub admission_no: Option<AdmissionNo>,
    pub given_name: Option<PersonName>,
    pub family_name: Option<PersonName>,
    pub date_of_birth: Option<NaiveDate>,
    pub grade_level: Option<GradeLevel>,
    pub section: Option<Section>,
    pub status: Option<StudentStatus>,
}

impl StudentPatch {
    pub fn is_empty(&self) -> bool {
        self.admission_no.is_none()
            && self.given_name.is_none()
            && self.family_name.is_none()
            && self.date_of_birth.is_none()
            && self.grade_level.is_none()
            && self.section.is_none()
            && self.status.is_none()
    }
}

/// A case-insensitive prefix, with LIKE metacharacters escaped so user text
/// is only ever matched literally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPrefix(String);

impl SearchPrefix {
    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars().count() > limits::SEARCH_MAX {
            return Err("search text must be at most 64 characters".into());
        }
        if s.chars().any(char::is_control) {
            return Err("search text must not contain control characters".into());
        }
        let mut pattern = String::with_capacity(s.len() + 2);
        // Case folding happens in SQL (`lower()` on both sides), so Rust and
        // Postgres can never disagree about it.
        for c in s.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        Ok(Some(Self(pattern)))
    }
    /// The LIKE pattern (escape character `\`).
    pub fn pattern(&self) -> &str {
        &self.0
    }
}

pub struct StudentFilter {
    pub grade_level: Option<GradeLevel>,
    pub section: Option<Section>,
    pub status: Option<StudentStatus>,
    pub search: Option<SearchPrefix>,
    pub after: Option<StudentCursor>,
    pub limit: u32,
}

/// Position after the last student of a page, in name order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StudentCursor {
    pub family_name: String,
    pub given_name: String,
    pub id: Uuid,
}

impl Keyset for StudentCursor {
    const TAG: &'static str = "s";
}

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

impl TryFrom<pb::CreateStudentRequest> for NewStudent {
    type Error = ServiceError;
    fn try_from(r: pb::CreateStudentRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let admission_no = v.take("admission_no", AdmissionNo::parse(&r.admission_no));
        let given_name = v.take("given_name", PersonName::parse(&r.given_name));
        let family_name = v.take("family_name", PersonName::parse(&r.family_name));
        let dob = v.take(
            "date_of_birth",
            date_of_birth(r.date_of_birth.as_ref(), today()),
        );
        let grade = v.take("grade_level", GradeLevel::parse(r.grade_level));
        let section = v.take("section", Section::parse(&r.section));
        let status = v.take("status", StudentStatus::from_proto(r.status));
        let login = match &r.login {
            None => None,
            Some(l) => {
                let email = v.take("login.email", Email::parse(&l.email));
                let password = v.take("login.password", NewPassword::parse(&l.password));
                email
                    .zip(password)
                    .map(|(email, password)| NewLogin { email, password })
            }
        };
        v.finish()?;
        match (
            admission_no,
            given_name,
            family_name,
            dob,
            grade,
            section,
            status,
        ) {
            (
                Some(admission_no),
                Some(given_name),
                Some(family_name),
                Some(date_of_birth),
                Some(grade_level),
                Some(section),
                Some(status),
            ) => Ok(Self {
                admission_no,
                given_name,
                family_name,
                date_of_birth,
                grade_level,
                section,
                status: status.unwrap_or(StudentStatus::Active),
                login,
            }),
            _ => Err(nothing()),
        }
    }
}

pub struct ParsedUpdate {
    pub id: Uuid,
    pub version: i64,
    pub patch: StudentPatch,
}

impl TryFrom<pb::UpdateStudentRequest> for ParsedUpdate {
    type Error = ServiceError;
    fn try_from(r: pb::UpdateStudentRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let id = v.take(
            "id",
            platform::text::parse_uuid(&r.id).ok_or_else(|| "must be a UUID".into()),
        );
        if r.version < 1 {
            v.add("version", "version is required and must be at least 1");
        }
        let mut patch = StudentPatch::default();
        if let Some(s) = &r.admission_no {
            patch.admission_no = v.take("admission_no", AdmissionNo::parse(s));
        }
        if let Some(s) = &r.given_name {
            patch.given_name = v.take("given_name", PersonName::parse(s));
        }
        if let Some(s) = &r.family_name {
            patch.family_name = v.take("family_name", PersonName::parse(s));
        }
        if r.date_of_birth.is_some() {
            patch.date_of_birth = v.take(
                "date_of_birth",
                date_of_birth(r.date_of_birth.as_ref(), today()),
            );
        }
        if let Some(g) = r.grade_level {
            patch.grade_level = v.take("grade_level", GradeLevel::parse(g));
        }
        if let Some(s) = &r.section {
            patch.section = v.take("section", Section::parse(s));
        }
        patch.status = v
            .take("status", StudentStatus::from_proto(r.status))
            .flatten();
        if patch.is_empty() && v.is_clean() {
            v.add("", "at least one field to change is required");
        }
        v.finish()?;
        let id = id.ok_or_else(|| anyhow::anyhow!("parse without violations yielded nothing"))?;
        Ok(Self {
            id,
            version: r.version,
            patch,
        })
    }
}

impl TryFrom<pb::ListStudentsRequest> for StudentFilter {
    type Error = ServiceError;
    fn try_from(r: pb::ListStudentsRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let page = r.page.unwrap_or_default();
        let (limit, after) = paging::request::<StudentCursor>(&mut v, page.limit, &page.cursor);
        let grade_level = match r.grade_level {
            Some(g) => v.take("grade_level", GradeLevel::parse(g)),
            None => None,
        };
        let section = match &r.section {
            Some(s) => v.take("section", Section::parse(s)),
            None => None,
        };
        let status = v
            .take("status", StudentStatus::from_proto(r.status))
            .flatten();
        let search = v.take("q", SearchPrefix::parse(&r.query)).flatten();
        v.finish()?;
        Ok(Self {
            grade_level,
            section,
            status,
            search,
            after,
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_numbers_grades_sections() {
        assert!(AdmissionNo::parse("A-2024/001").is_ok());
        assert!(AdmissionNo::parse("1; DROP TABLE").is_err());
        assert!(AdmissionNo::parse("").is_err());
        assert!(GradeLevel::parse(0).is_ok() && GradeLevel::parse(12).is_ok());
        assert!(GradeLevel::parse(-1).is_err() && GradeLevel::parse(13).is_err());
        assert!(Section::parse("").is_ok());
        assert!(Section::parse("B'; --").is_err());
    }

    #[test]
    fn dates_of_birth() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let d = |year, month, day| common::Date { year, month, day };
        assert!(date_of_birth(Some(&d(2015, 2, 28)), today).is_ok());
        assert!(date_of_birth(Some(&d(2015, 2, 30)), today).is_err());
        assert!(date_of_birth(Some(&d(2030, 1, 1)), today).is_err());
        assert!(date_of_birth(Some(&d(1899, 12, 31)), today).is_err());
        assert!(date_of_birth(Some(&d(-5, 1, 1)), today).is_err());
        assert!(date_of_birth(None, today).is_err());
    }

    #[test]
    fn search_escapes_like_metacharacters() {
        let p = SearchPrefix::parse("50%_a\\' OR 1=1").unwrap().unwrap();
        assert_eq!(p.pattern(), "50\\%\\_a\\\\' OR 1=1%");
        assert_eq!(SearchPrefix::parse("  ").unwrap(), None);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = StudentCursor {
            family_name: "Ng".into(),
            given_name: "Zoë".into(),
            id: Uuid::now_v7(),
        };
        assert_eq!(StudentCursor::decode(&c.encode()).unwrap(), c);
        assert!(StudentCursor::decode("not base64!").is_err());
        assert!(StudentCursor::decode("eyJhIjoxfQ").is_err());
    }

    #[test]
    fn page_limits() {
        assert_eq!(paging::limit(0).unwrap(), paging::DEFAULT_LIMIT);
        assert_eq!(paging::limit(100).unwrap(), 100);
        assert!(paging::limit(101).is_err());
    }

    #[test]
    fn status_numbers() {
        assert_eq!(StudentStatus::from_proto(0).unwrap(), None);
        assert_eq!(
            StudentStatus::from_proto(2).unwrap(),
            Some(StudentStatus::Graduated)
        );
        assert!(StudentStatus::from_proto(42).is_err());
    }
}
