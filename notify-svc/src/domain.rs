//! Event payloads parsed into the types the projection and alerts accept
//! (parse at the edge: repository functions never see raw strings).

use chrono::NaiveDate;
use proto::events::v1 as ev;
use uuid::Uuid;

/// A payload that cannot be what students-svc sends.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct BadPayload {
    field: &'static str,
    reason: &'static str,
}

fn bad(field: &'static str, reason: &'static str) -> BadPayload {
    BadPayload { field, reason }
}

pub fn id(field: &'static str, raw: &str) -> Result<Uuid, BadPayload> {
    raw.parse().map_err(|_| bad(field, "not a UUID"))
}

fn optional_id(field: &'static str, raw: &str) -> Result<Option<Uuid>, BadPayload> {
    if raw.is_empty() {
        Ok(None)
    } else {
        id(field, raw).map(Some)
    }
}

fn optional_text(raw: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// How to reach a guardian and on which channels they want to be told.
#[derive(Clone, Debug, Default)]
pub struct Contact {
    pub phone: Option<String>,
    pub email: Option<String>,
    pub sms: bool,
    pub email_wanted: bool,
    pub push: bool,
    pub user_id: Option<Uuid>,
    /// ISO 639-1; `None`: the school's language (also for a value that is
    /// not two lowercase letters, which students-svc never sends).
    pub language: Option<String>,
}

impl TryFrom<Option<&ev::GuardianContact>> for Contact {
    type Error = BadPayload;
    fn try_from(c: Option<&ev::GuardianContact>) -> Result<Self, BadPayload> {
        let Some(c) = c else {
            return Ok(Self::default());
        };
        Ok(Self {
            phone: optional_text(&c.phone),
            email: optional_text(&c.email),
            sms: c.notify_sms,
            email_wanted: c.notify_email,
            push: c.notify_push,
            user_id: optional_id("contact.user_id", &c.user_id)?,
            language: (c.language.len() == 2 && c.language.bytes().all(|b| b.is_ascii_lowercase()))
                .then(|| c.language.clone()),
        })
    }
}

/// A guardian snapshot (`guardian.created` / `guardian.updated`).
#[derive(Clone, Debug)]
pub struct Guardian {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub contact: Contact,
    pub version: i64,
}

impl TryFrom<&ev::GuardianChanged> for Guardian {
    type Error = BadPayload;
    fn try_from(g: &ev::GuardianChanged) -> Result<Self, BadPayload> {
        Ok(Self {
            id: id("guardian_id", &g.guardian_id)?,
            given_name: g.given_name.clone(),
            family_name: g.family_name.clone(),
            contact: g.contact.as_ref().try_into()?,
            version: g.version,
        })
    }
}

/// A guardian↔student link (`guardian.linked` / `guardian.unlinked`).
#[derive(Clone, Debug)]
pub struct Link {
    pub guardian_id: Uuid,
    pub student_id: Uuid,
    pub relationship: String,
    pub is_primary: bool,
    pub contact: Contact,
    /// The pair's link version (0 from producers that had none).
    pub version: i64,
}

impl TryFrom<&ev::GuardianLinked> for Link {
    type Error = BadPayload;
    fn try_from(l: &ev::GuardianLinked) -> Result<Self, BadPayload> {
        Ok(Self {
            guardian_id: id("guardian_id", &l.guardian_id)?,
            student_id: id("student_id", &l.student_id)?,
            relationship: l.relationship.clone(),
            is_primary: l.is_primary,
            contact: l.contact.as_ref().try_into()?,
            version: l.version,
        })
    }
}

/// A student's name, grade level and standing as of `version`.
#[derive(Clone, Debug)]
pub struct Student {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub grade_level: i32,
    /// Neither archived, graduated nor withdrawn.
    pub active: bool,
    pub version: i64,
}

impl TryFrom<&ev::StudentChanged> for Student {
    type Error = BadPayload;
    fn try_from(s: &ev::StudentChanged) -> Result<Self, BadPayload> {
        Ok(Self {
            id: id("student_id", &s.student_id)?,
            given_name: s.given_name.clone(),
            family_name: s.family_name.clone(),
            grade_level: s.grade_level,
            active: !s.archived && s.status == "active",
            version: s.version,
        })
    }
}

/// A course's teacher as of `version` (`course.*`).
#[derive(Clone, Debug)]
pub struct Course {
    pub id: Uuid,
    pub teacher_id: Option<Uuid>,
    pub version: i64,
}

impl TryFrom<&ev::CourseChanged> for Course {
    type Error = BadPayload;
    fn try_from(c: &ev::CourseChanged) -> Result<Self, BadPayload> {
        Ok(Self {
            id: id("course_id", &c.course_id)?,
            teacher_id: optional_id("teacher_id", &c.teacher_id)?,
            version: c.version,
        })
    }
}

/// An enrolment (`enrolment.created` / `enrolment.withdrawn`).
#[derive(Clone, Debug)]
pub struct Enrolment {
    pub id: Uuid,
    pub course_id: Uuid,
    pub student_id: Uuid,
    pub enrolled: bool,
    pub version: i64,
}

impl TryFrom<&ev::EnrolmentChanged> for Enrolment {
    type Error = BadPayload;
    fn try_from(e: &ev::EnrolmentChanged) -> Result<Self, BadPayload> {
        Ok(Self {
            id: id("enrolment_id", &e.enrolment_id)?,
            course_id: id("course_id", &e.course_id)?,
            student_id: id("student_id", &e.student_id)?,
            enrolled: !e.withdrawn,
            version: e.version,
        })
    }
}

/// The students an attendance write left absent in one course session.
#[derive(Clone, Debug)]
pub struct Absences {
    pub course_id: Uuid,
    pub date: NaiveDate,
    /// 0: the day's session; 1-12: a period.
    pub period: u32,
    pub students: Vec<Uuid>,
}

impl TryFrom<&ev::AttendanceMarked> for Absences {
    type Error = BadPayload;
    fn try_from(a: &ev::AttendanceMarked) -> Result<Self, BadPayload> {
        let students = a
            .changes
            .iter()
            .filter(|c| c.effective_status == "absent")
            .map(|c| id("changes.student_id", &c.student_id))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            course_id: id("course_id", &a.course_id)?,
            date: NaiveDate::parse_from_str(&a.date, "%Y-%m-%d")
                .map_err(|_| bad("date", "not YYYY-MM-DD"))?,
            period: a.period,
            students,
        })
    }
}

fn date(field: &'static str, raw: &str) -> Result<Option<NaiveDate>, BadPayload> {
    if raw.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| bad(field, "not YYYY-MM-DD"))
}

/// A school's name and time zone (`school.created` / `school.updated`).
#[derive(Clone, Debug)]
pub struct School {
    pub name: String,
    /// An IANA zone; `UTC` when the producer sent none or one unknown here.
    pub time_zone: String,
    pub version: i64,
}

impl From<&ev::SchoolChanged> for School {
    fn from(s: &ev::SchoolChanged) -> Self {
        let time_zone = if s.time_zone.parse::<chrono_tz::Tz>().is_ok() {
            s.time_zone.clone()
        } else {
            "UTC".to_owned()
        };
        Self {
            name: s.name.clone(),
            time_zone,
            version: s.version,
        }
    }
}

/// An invoice snapshot (`invoice.*`).
#[derive(Clone, Debug)]
pub struct Invoice {
    pub id: Uuid,
    pub student_id: Uuid,
    pub currency: String,
    pub total: i64,
    pub amount_paid: i64,
    pub amount_due: i64,
    pub status: String,
    pub due_on: Option<NaiveDate>,
    pub version: i64,
}

impl TryFrom<&ev::InvoiceChanged> for Invoice {
    type Error = BadPayload;
    fn try_from(i: &ev::InvoiceChanged) -> Result<Self, BadPayload> {
        Ok(Self {
            id: id("invoice_id", &i.invoice_id)?,
            student_id: id("student_id", &i.student_id)?,
            currency: i.currency.clone(),
            total: i.total,
            amount_paid: i.amount_paid,
            amount_due: i.amount_due,
            status: i.status.clone(),
            due_on: date("due_on", &i.due_on)?,
            version: i.version,
        })
    }
}

/// A payment on an invoice (`payment.recorded`), with the invoice after it.
#[derive(Clone, Debug)]
pub struct Payment {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub student_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub method: String,
    pub reference: String,
    pub invoice_total: i64,
    pub invoice_amount_paid: i64,
    pub invoice_amount_due: i64,
    pub invoice_status: String,
    pub invoice_version: i64,
}

impl TryFrom<&ev::PaymentRecorded> for Payment {
    type Error = BadPayload;
    fn try_from(p: &ev::PaymentRecorded) -> Result<Self, BadPayload> {
        Ok(Self {
            id: id("payment_id", &p.payment_id)?,
            invoice_id: id("invoice_id", &p.invoice_id)?,
            student_id: id("student_id", &p.student_id)?,
            amount: p.amount,
            currency: p.currency.clone(),
            method: p.method.clone(),
            reference: p.reference.clone(),
            invoice_total: p.invoice_total,
            invoice_amount_paid: p.invoice_amount_paid,
            invoice_amount_due: p.invoice_amount_due,
            invoice_status: p.invoice_status.clone(),
            invoice_version: p.invoice_version,
        })
    }
}

/// An assessment's published grades (`grades.published`).
#[derive(Clone, Debug)]
pub struct Grades {
    pub assessment_id: Uuid,
    pub title: String,
    /// Hundredths of a point.
    pub max_score: i64,
    /// (student, score in hundredths).
    pub scores: Vec<(Uuid, i64)>,
    /// The graded students' portal logins, where they have one.
    pub student_users: std::collections::HashMap<Uuid, Uuid>,
}

impl TryFrom<&ev::GradesPublished> for Grades {
    type Error = BadPayload;
    fn try_from(g: &ev::GradesPublished) -> Result<Self, BadPayload> {
        Ok(Self {
            assessment_id: id("assessment_id", &g.assessment_id)?,
            title: g.title.clone(),
            max_score: i64::from(g.max_score),
            scores: g
                .scores
                .iter()
                .map(|s| Ok((id("scores.student_id", &s.student_id)?, i64::from(s.score))))
                .collect::<Result<_, _>>()?,
            student_users: g
                .student_user_ids
                .iter()
                .map(|(s, u)| {
                    Ok((
                        id("student_user_ids.key", s)?,
                        id("student_user_ids.value", u)?,
                    ))
                })
                .collect::<Result<_, _>>()?,
        })
    }
}
