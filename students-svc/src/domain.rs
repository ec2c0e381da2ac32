//! Domain types: proto messages are parsed into these at the gRPC edge, and
//! repositories accept nothing else. Parsing collects every field error so a
//! client can show them all at once.

use chrono::NaiveDate;
use platform::caller::Role;
use platform::limits;
use proto::common::v1 as common;
use proto::students::v1 as pb;
use uuid::Uuid;

use crate::error::{FieldViolation, ServiceError};

/// Accumulates field errors while a request is parsed.
#[derive(Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// Records the error of a failed parse and yields the value if any.
    pub fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.add(field, m);
                None
            }
        }
    }

    pub fn into_violations(self) -> Vec<FieldViolation> {
        self.0
    }

    pub fn is_clean(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<(), ServiceError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Invalid(self.0))
        }
    }
}

/// The error of a parse that recorded no violation yet produced no value: a
/// bug in the parser, never the client's fault.
pub(crate) fn nothing() -> ServiceError {
    anyhow::anyhow!("parse without violations yielded nothing").into()
}

/// A UUID field, as a violation message when it is not one.
pub(crate) fn uuid(raw: &str) -> Result<Uuid, String> {
    platform::text::parse_uuid(raw).ok_or_else(|| "must be a UUID".to_owned())
}

pub(crate) const BAD_CURSOR: &str = "cursor is not one this server issued";

/// An opaque keyset cursor: the last row's sort key as base64url JSON.
pub(crate) fn encode_cursor<T: serde::Serialize>(v: &T) -> String {
    use base64::Engine;
    let json = serde_json::to_vec(v).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

pub(crate) fn decode_cursor<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, String> {
    use base64::Engine;
    if raw.len() > 2048 {
        return Err(BAD_CURSOR.into());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| BAD_CURSOR.to_owned())?;
    serde_json::from_slice(&bytes).map_err(|_| BAD_CURSOR.to_owned())
}

/// Display text (names, titles, rooms): something visible, at most
/// `max_chars`, no control or bidirectional control characters.
pub(crate) fn bounded_text(raw: &str, what: &str, max_chars: usize) -> Result<String, String> {
    let s = platform::text::display_text(raw, what)?;
    if s.chars().count() > max_chars {
        return Err(format!("{what} must be at most {max_chars} characters"));
    }
    Ok(s.to_owned())
}

/// A person's given or family name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, "name", limits::PERSON_NAME_MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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

/// URL-safe school handle used at login: 3–40 of `a-z 0-9 -`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_ascii_lowercase();
        let ok_len = (limits::SLUG_MIN..=limits::SLUG_MAX).contains(&s.len());
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok_len || !ok_chars || s.starts_with('-') || s.ends_with('-') {
            return Err("slug must be 3-40 characters of a-z, 0-9 and inner hyphens".into());
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lower-cased e-mail address with one `@`, a dotted domain and no spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        let valid = s.len() <= limits::EMAIL_MAX
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= limits::EMAIL_LOCAL_MAX
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid {
            Ok(Self(s))
        } else {
            Err("must be a valid e-mail address".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10–128 characters. Never logged, never stored in clear.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let n = raw.chars().count();
        if !(limits::PASSWORD_MIN..=limits::PASSWORD_MAX).contains(&n) {
            return Err("password must be 10-128 characters".into());
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

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

pub fn role_to_proto(r: Role) -> common::Role {
    match r {
        Role::Admin => common::Role::Admin,
        Role::Teacher => common::Role::Teacher,
        Role::Student => common::Role::Student,
        Role::Guardian => common::Role::Guardian,
    }
}

pub fn parse_id(field: &str, raw: &str) -> Result<Uuid, ServiceError> {
    platform::text::parse_uuid(raw).ok_or_else(|| ServiceError::invalid(field, "must be a UUID"))
}

pub struct NewSchool {
    pub name: SchoolName,
    pub slug: Slug,
    pub admin: NewUser,
}

pub struct NewUser {
    pub email: Email,
    pub password: NewPassword,
    pub full_name: PersonName,
    pub role: Role,
}

pub struct NewLogin {
    pub email: Email,
    pub password: NewPassword,
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

pub const MAX_PAGE: u32 = limits::PAGE_MAX;
pub const DEFAULT_PAGE: u32 = 25;

/// Position after the last row of a page, in the list's sort order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub family_name: String,
    pub given_name: String,
    pub id: Uuid,
}

/// The list a name-ordered cursor pages through: students and guardians
/// share the key's shape, and a cursor of one must not be accepted by the
/// other (it would silently page from an unrelated name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameList {
    Students,
    Guardians,
}

impl NameList {
    const fn tag(self) -> &'static str {
        match self {
            Self::Students => "s",
            Self::Guardians => "p",
        }
    }
}

impl Cursor {
    pub fn encode(&self, list: NameList) -> String {
        encode_cursor(&(list.tag(), &self.family_name, &self.given_name, self.id))
    }

    pub fn decode(raw: &str, list: NameList) -> Result<Self, String> {
        let (tag, family_name, given_name, id): (String, String, String, Uuid) =
            decode_cursor(raw)?;
        if tag != list.tag() {
            return Err(BAD_CURSOR.into());
        }
        Ok(Self {
            family_name,
            given_name,
            id,
        })
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
    pub after: Option<Cursor>,
    pub limit: u32,
}

pub fn page_limit(raw: u32) -> Result<u32, String> {
    match raw {
        0 => Ok(DEFAULT_PAGE),
        1..=MAX_PAGE => Ok(raw),
        _ => Err(format!("limit must be between 1 and {MAX_PAGE}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse("a\u{0}b").is_err());
        assert!(PersonName::parse("Zoë O'Brien-Ngā").is_ok());
    }

    #[test]
    fn slugs_and_emails() {
        assert_eq!(Slug::parse("North-High").unwrap().as_str(), "north-high");
        for bad in ["ab", "-abc", "abc-", "a b c", "école"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Email::parse(" A@B.org ").unwrap().as_str(), "a@b.org");
        for bad in ["a", "a@b", "@b.org", "a@@b.org", "a b@c.org", "a@.org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

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
        let c = Cursor {
            family_name: "Ng".into(),
            given_name: "Zoë".into(),
            id: Uuid::now_v7(),
        };
        assert_eq!(
            Cursor::decode(&c.encode(NameList::Students), NameList::Students).unwrap(),
            c
        );
        assert!(Cursor::decode(&c.encode(NameList::Students), NameList::Guardians).is_err());
        assert!(Cursor::decode(&c.encode(NameList::Guardians), NameList::Students).is_err());
        assert!(Cursor::decode("not base64!", NameList::Students).is_err());
        assert!(Cursor::decode("eyJhIjoxfQ", NameList::Students).is_err());
    }

    #[test]
    fn page_limits() {
        assert_eq!(page_limit(0).unwrap(), DEFAULT_PAGE);
        assert_eq!(page_limit(100).unwrap(), 100);
        assert!(page_limit(101).is_err());
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
