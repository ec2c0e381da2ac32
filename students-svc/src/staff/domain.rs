//! Validated staff values, parsed from proto requests with every field error
//! collected.

use chrono::{Datelike, NaiveDate, Utc};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use uuid::Uuid;

use platform::paging::{self, Keyset};
use platform::service::{nothing, ServiceError, Violations};

use crate::values::Phone;

pub const MAX_SUBJECTS: usize = platform::limits::MAX_SUBJECTS;

/// A subject taught ("Maths", "Art & Design"): 1-40 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = platform::text::display_text(raw, "subject")?;
        if s.chars().count() > platform::limits::SUBJECT_MAX {
            return Err("subject must be 1-40 characters without control characters".into());
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// School-assigned employee number: 1-32 of letters, digits, `-`, `/`, `.`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmployeeNo(String);

impl EmployeeNo {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let ok = (1..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'.'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("employee number must be 1-32 of letters, digits, '-', '/', '.'".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A hire date: a real calendar date from 1900 to a year from `today`.
pub fn hired_on(d: Option<&common::Date>, today: NaiveDate) -> Result<NaiveDate, String> {
    let d = d.ok_or("hire date is required")?;
    let date = NaiveDate::from_ymd_opt(d.year, d.month, d.day)
        .ok_or("hire date is not a valid calendar date")?;
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = today
        .with_year(today.year() + 1)
        .unwrap_or(today + chrono::Days::new(365));
    if date < earliest || date > latest {
        return Err("hire date must be between 1900-01-01 and a year from today".into());
    }
    Ok(date)
}

pub struct StaffProfileInput {
    pub user_id: Uuid,
    pub phone: Option<Phone>,
    pub subjects: Vec<Subject>,
    pub employee_no: EmployeeNo,
    pub hired_on: NaiveDate,
}

impl TryFrom<pb::SaveStaffProfileRequest> for StaffProfileInput {
    type Error = ServiceError;
    fn try_from(r: pb::SaveStaffProfileRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let user_id = v.take(
            "user_id",
            platform::text::parse_uuid(&r.user_id).ok_or_else(|| "must be a UUID".to_owned()),
        );
        let phone = v.take("phone", Phone::parse_optional(&r.phone));
        let mut subjects = Vec::with_capacity(r.subjects.len().min(MAX_SUBJECTS));
        if r.subjects.len() > MAX_SUBJECTS {
            v.add(
                "subjects",
                format!("at most {MAX_SUBJECTS} subjects are allowed"),
            );
        } else {
            for (i, raw) in r.subjects.iter().enumerate() {
                let field = format!("subjects[{i}]");
                if let Some(s) = v.take(&field, Subject::parse(raw)) {
                    if subjects
                        .iter()
                        .any(|t: &Subject| t.as_str().eq_ignore_ascii_case(s.as_str()))
                    {
                        v.add(&field, "subjects must not repeat");
                    } else {
                        subjects.push(s);
                    }
                }
            }
        }
        let employee_no = v.take("employee_no", EmployeeNo::parse(&r.employee_no));
        let hired = v.take(
            "hired_on",
            hired_on(r.hired_on.as_ref(), Utc::now().date_naive()),
        );
        v.finish()?;
        match (user_id, phone, employee_no, hired) {
            (Some(user_id), Some(phone), Some(employee_no), Some(hired_on)) => Ok(Self {
                user_id,
                phone,
                subjects,
                employee_no,
                hired_on,
            }),
            _ => Err(nothing()),
        }
    }
}

/// Position after the last row of a staff page: (full name, user id).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StaffCursor {
    pub full_name: String,
    pub id: Uuid,
}

impl Keyset for StaffCursor {
    const TAG: &'static str = "t";
}

pub struct StaffFilter {
    pub after: Option<StaffCursor>,
    pub limit: u32,
}

impl TryFrom<pb::ListStaffRequest> for StaffFilter {
    type Error = ServiceError;
    fn try_from(r: pb::ListStaffRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let page = r.page.unwrap_or_default();
        let (limit, after) = paging::request::<StaffCursor>(&mut v, page.limit, &page.cursor);
        v.finish()?;
        Ok(Self { after, limit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_employee_numbers_and_dates() {
        assert_eq!(Subject::parse(" Maths ").unwrap().as_str(), "Maths");
        assert!(Subject::parse("").is_err() && Subject::parse(&"x".repeat(41)).is_err());
        assert!(EmployeeNo::parse("T-001").is_ok() && EmployeeNo::parse("T 1").is_err());
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let d = |year, month, day| common::Date { year, month, day };
        assert!(hired_on(Some(&d(2020, 9, 1)), today).is_ok());
        assert!(hired_on(Some(&d(2027, 11, 23)), today).is_ok());
        assert!(hired_on(Some(&d(2027, 11, 24)), today).is_err());
        assert!(hired_on(Some(&d(2020, 2, 30)), today).is_err());
        assert!(hired_on(None, today).is_err());
        let c = StaffCursor {
            full_name: "Tess".into(),
            id: Uuid::now_v7(),
        };
        assert_eq!(StaffCursor::decode(&c.encode()).unwrap(), c);
        assert!(StaffCursor::decode("garbage!").is_err());
    }
}
