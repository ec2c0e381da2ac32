//! JSON shapes of the dashboards and reports (analytics-svc) and their proto
//! conversions.
//!
//! Rates and averages are percentages as numbers with two decimals
//! (`95.23`); the proto carries them as hundredths of a percent (9523), and
//! that integer divided by 100 is exactly what is sent. Amounts are integers
//! in the currency's minor unit, as in the fee routes. Dates are
//! `YYYY-MM-DD` in the school's time zone, months `YYYY-MM`.

use chrono::{Datelike, NaiveDate};
use proto::analytics::v1 as pb;
use proto::common::v1 as common;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{opt_uuid, uuid_or_nil, FieldErrors, Page, PageParams, Paged};
use crate::problem::ApiError;

/// A rate or average in hundredths of a percent as a percentage.
fn percent(hundredths: u32) -> f64 {
    f64::from(hundredths) / 100.0
}

/// The same percentage as text with exactly two decimals (CSV).
fn percent_text(hundredths: u32) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Sessions counted by effective status over a day or a range.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttendanceTotals {
    pub present: u32,
    pub absent: u32,
    pub late: u32,
    pub excused: u32,
    /// Percent with two decimals: (present + late) / marked sessions; 0
    /// when none were marked.
    pub rate: f64,
}

impl From<pb::AttendanceCounts> for AttendanceTotals {
    fn from(c: pb::AttendanceCounts) -> Self {
        Self {
            present: c.present,
            absent: c.absent,
            late: c.late,
            excused: c.excused,
            rate: percent(c.rate),
        }
    }
}

/// One school day's attendance, in sessions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DailyAttendance {
    /// `YYYY-MM-DD`, a day in the school's time zone.
    #[schema(format = Date)]
    pub date: String,
    pub present: u32,
    pub absent: u32,
    pub late: u32,
    pub excused: u32,
    /// Percent with two decimals: (present + late) / marked sessions.
    pub rate: f64,
}

impl From<pb::AttendanceCounts> for DailyAttendance {
    fn from(c: pb::AttendanceCounts) -> Self {
        Self {
            rate: percent(c.rate),
            date: c.date,
            present: c.present,
            absent: c.absent,
            late: c.late,
            excused: c.excused,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GradeSectionCount {
    pub grade_level: i32,
    pub section: String,
    pub students: u32,
}

/// Fees of one month in one currency (minor units).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeesMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub currency: String,
    /// Issued that month (invoice issue date), net of voids.
    pub billed: i64,
    /// Paid that month (payment date in the school's time zone).
    pub collected: i64,
    /// Still due on the invoices issued that month.
    pub outstanding: i64,
}

impl From<pb::FeesMonth> for FeesMonth {
    fn from(m: pb::FeesMonth) -> Self {
        Self {
            month: m.month,
            currency: m.currency,
            billed: m.billed,
            collected: m.collected,
            outstanding: m.outstanding,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CourseGrade {
    pub course_id: Uuid,
    pub code: String,
    pub name: String,
    /// Percent with two decimals: the mean of published grades as a
    /// percentage of their max score.
    pub average: f64,
    /// Published grades counted.
    pub grades: u32,
}

impl From<pb::CourseGrade> for CourseGrade {
    fn from(c: pb::CourseGrade) -> Self {
        Self {
            course_id: uuid_or_nil(&c.course_id),
            code: c.code,
            name: c.name,
            average: percent(c.average),
            grades: c.grades,
        }
    }
}

impl Paged for CourseGrade {
    const PAGE: &'static str = "CourseGradePage";
}

pub type CourseGradePage = Page<CourseGrade>;

/// The school at a glance; "today" is the school's, in its time zone.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SchoolDashboard {
    #[schema(format = Date)]
    pub today: String,
    pub time_zone: String,
    pub active_students: u32,
    pub students_by_grade: Vec<GradeSectionCount>,
    pub staff: u32,
    pub courses: u32,
    pub sessions_scheduled_today: u32,
    pub sessions_marked_today: u32,
    pub today_attendance: AttendanceTotals,
    /// The last 30 school days (days with marks), oldest first.
    pub attendance_trend: Vec<DailyAttendance>,
    /// This school year's months, oldest first.
    pub fees: Vec<FeesMonth>,
    pub overdue_invoices: u32,
    /// The 10 courses with the lowest average published grade, lowest
    /// first (so the answer's size does not grow with the school); every
    /// course's average is `GET /reports/course-grades`.
    pub course_grades: Vec<CourseGrade>,
    /// Courses with at least one published grade (how many
    /// `GET /reports/course-grades` lists).
    pub graded_courses: u32,
    pub at_risk_students: u32,
}

impl From<pb::SchoolDashboard> for SchoolDashboard {
    fn from(d: pb::SchoolDashboard) -> Self {
        Self {
            today: d.today,
            time_zone: d.time_zone,
            active_students: d.active_students,
            students_by_grade: d
                .students_by_grade
                .into_iter()
                .map(|g| GradeSectionCount {
                    grade_level: g.grade_level,
                    section: g.section,
                    students: g.students,
                })
                .collect(),
            staff: d.staff,
            courses: d.courses,
            sessions_scheduled_today: d.sessions_scheduled_today,
            sessions_marked_today: d.sessions_marked_today,
            today_attendance: d.today_attendance.unwrap_or_default().into(),
            attendance_trend: super::items(d.attendance_trend),
            fees: super::items(d.fees),
            overdue_invoices: d.overdue_invoices,
            course_grades: super::items(d.course_grades),
            graded_courses: d.graded_courses,
            at_risk_students: d.at_risk_students,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TeacherCourse {
    pub course_id: Uuid,
    pub code: String,
    pub name: String,
    pub enrolled: u32,
    pub capacity: u32,
    /// Percent with two decimals: this school year's attendance rate.
    pub attendance_rate: f64,
    /// This school year's published assessments, by due date (undated last).
    pub published: Vec<AssessmentDistribution>,
}

/// A published assessment's grade distribution.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssessmentDistribution {
    pub assessment_id: Uuid,
    pub title: String,
    /// `YYYY-MM-DD`, or absent.
    pub due_on: Option<String>,
    /// Grades entered.
    pub graded: u32,
    /// Mean as a percentage of the max score, two decimals.
    pub average: f64,
    /// Ten counts of grades: [0 %, 10 %), [10 %, 20 %), …, [90 %, 100 %].
    pub bands: Vec<u32>,
}

/// A session of today's timetable not marked yet.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnmarkedSession {
    pub course_id: Uuid,
    pub code: String,
    /// `HH:MM`, from the timetable.
    pub start: String,
    pub end: String,
    pub room: String,
}

/// An assessment past its due date with grades missing.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MissingGrades {
    pub assessment_id: Uuid,
    pub course_id: Uuid,
    pub title: String,
    #[schema(format = Date)]
    pub due_on: String,
    /// Enrolled students without a grade.
    pub missing: u32,
}

/// The signed-in teacher's courses and what is left to do today.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TeacherDashboard {
    #[schema(format = Date)]
    pub today: String,
    pub courses: Vec<TeacherCourse>,
    pub unmarked_today: Vec<UnmarkedSession>,
    pub past_due: Vec<MissingGrades>,
}

impl From<pb::TeacherDashboard> for TeacherDashboard {
    fn from(d: pb::TeacherDashboard) -> Self {
        Self {
            today: d.today,
            courses: d
                .courses
                .into_iter()
                .map(|c| TeacherCourse {
                    course_id: uuid_or_nil(&c.course_id),
                    code: c.code,
                    name: c.name,
                    enrolled: c.enrolled,
                    capacity: c.capacity,
                    attendance_rate: percent(c.attendance_rate),
                    published: c
                        .published
                        .into_iter()
                        .map(|a| AssessmentDistribution {
                            assessment_id: uuid_or_nil(&a.assessment_id),
                            title: a.title,
                            due_on: Some(a.due_on).filter(|d| !d.is_empty()),
                            graded: a.graded,
                            average: percent(a.average),
                            bands: a.bands,
                        })
                        .collect(),
                })
                .collect(),
            unmarked_today: d
                .unmarked_today
                .into_iter()
                .map(|s| UnmarkedSession {
                    course_id: uuid_or_nil(&s.course_id),
                    code: s.code,
                    start: s.start,
                    end: s.end,
                    room: s.room,
                })
                .collect(),
            past_due: d
                .past_due
                .into_iter()
                .map(|m| MissingGrades {
                    assessment_id: uuid_or_nil(&m.assessment_id),
                    course_id: uuid_or_nil(&m.course_id),
                    title: m.title,
                    due_on: m.due_on,
                    missing: m.missing,
                })
                .collect(),
        }
    }
}

/// Why a student is on the early-warning list.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RiskReason {
    /// Attendance over the last 30 school days below the threshold.
    ChronicAbsence,
    /// Absent this many school days in a row, or more.
    ConsecutiveAbsences,
    /// An average in some course below the threshold.
    LowGrade,
}

impl RiskReason {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "chronic_absence" => Some(Self::ChronicAbsence),
            "consecutive_absences" => Some(Self::ConsecutiveAbsences),
            "low_grade" => Some(Self::LowGrade),
            _ => None,
        }
    }

    fn to_proto(self) -> pb::RiskReason {
        match self {
            Self::ChronicAbsence => pb::RiskReason::ChronicAbsence,
            Self::ConsecutiveAbsences => pb::RiskReason::ConsecutiveAbsences,
            Self::LowGrade => pb::RiskReason::LowGrade,
        }
    }

    fn from_proto(v: pb::RiskReason) -> Option<Self> {
        match v {
            pb::RiskReason::ChronicAbsence => Some(Self::ChronicAbsence),
            pb::RiskReason::ConsecutiveAbsences => Some(Self::ConsecutiveAbsences),
            pb::RiskReason::LowGrade => Some(Self::LowGrade),
            pb::RiskReason::Unspecified => None,
        }
    }

    /// A reason as the summary carries it: the API's name or the proto
    /// enum's (`RISK_REASON_LOW_GRADE`); unknown ones are left out.
    fn from_text(s: &str) -> Option<Self> {
        Self::parse(s).or_else(|| pb::RiskReason::from_str_name(s).and_then(Self::from_proto))
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CourseAverage {
    pub course_id: Uuid,
    pub code: String,
    pub name: String,
    /// Percent with two decimals, weighted by assessment weight; null
    /// while nothing is graded (published grades only for the student and
    /// guardians).
    pub average: Option<f64>,
    /// Grades counted in the average.
    pub graded: u32,
    /// Percent with two decimals: the student's attendance rate in the
    /// course this school year.
    pub attendance_rate: f64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BalanceDue {
    pub currency: String,
    /// Minor units.
    pub due: i64,
}

/// One student at a glance.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StudentSummary {
    pub student_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub grade_level: i32,
    pub section: String,
    /// This school year.
    pub year_attendance: AttendanceTotals,
    /// The last 30 school days.
    pub recent_attendance: AttendanceTotals,
    /// School days in a row, up to the latest, the student was absent.
    pub consecutive_absences: u32,
    pub courses: Vec<CourseAverage>,
    pub balances: Vec<BalanceDue>,
    /// Why the student is on the early-warning list; empty when not.
    pub at_risk: Vec<RiskReason>,
}

impl From<pb::StudentSummary> for StudentSummary {
    fn from(s: pb::StudentSummary) -> Self {
        Self {
            student_id: uuid_or_nil(&s.student_id),
            given_name: s.given_name,
            family_name: s.family_name,
            grade_level: s.grade_level,
            section: s.section,
            year_attendance: s.year_attendance.unwrap_or_default().into(),
            recent_attendance: s.recent_attendance.unwrap_or_default().into(),
            consecutive_absences: s.consecutive_absences,
            courses: s
                .courses
                .into_iter()
                .map(|c| CourseAverage {
                    course_id: uuid_or_nil(&c.course_id),
                    code: c.code,
                    name: c.name,
                    average: (c.graded > 0).then(|| percent(c.average)),
                    graded: c.graded,
                    attendance_rate: percent(c.attendance_rate),
                })
                .collect(),
            balances: s
                .balances
                .into_iter()
                .map(|b| BalanceDue {
                    currency: b.currency,
                    due: b.due,
                })
                .collect(),
            at_risk: s
                .at_risk
                .iter()
                .filter_map(|r| RiskReason::from_text(r))
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AtRiskStudent {
    pub student_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub grade_level: i32,
    pub section: String,
    pub reasons: Vec<RiskReason>,
    /// Percent with two decimals, over the last 30 school days.
    pub recent_attendance_rate: f64,
    pub consecutive_absences: u32,
    /// Percent with two decimals: the lowest course average (with
    /// `low_grade`), else null.
    pub lowest_average: Option<f64>,
    /// The course of `lowest_average`.
    pub lowest_course_id: Option<Uuid>,
}

impl From<pb::AtRiskStudent> for AtRiskStudent {
    fn from(s: pb::AtRiskStudent) -> Self {
        let reasons: Vec<RiskReason> = s
            .reasons()
            .filter_map(RiskReason::from_proto)
            .collect::<Vec<_>>();
        let lowest_course_id = opt_uuid(&s.lowest_course_id);
        Self {
            student_id: uuid_or_nil(&s.student_id),
            given_name: s.given_name,
            family_name: s.family_name,
            grade_level: s.grade_level,
            section: s.section,
            recent_attendance_rate: percent(s.recent_attendance_rate),
            consecutive_absences: s.consecutive_absences,
            lowest_average: lowest_course_id.map(|_| percent(s.lowest_average)),
            lowest_course_id,
            reasons,
        }
    }
}

impl Paged for AtRiskStudent {
    const PAGE: &'static str = "AtRiskPage";
}

pub type AtRiskPage = Page<AtRiskStudent>;

/// An optional grade level filter (0-12).
fn grade_level(e: &mut FieldErrors, raw: Option<&str>) -> Option<i32> {
    let raw = raw?;
    match raw.parse::<i32>() {
        Ok(g)
            if (platform::limits::GRADE_LEVEL_MIN..=platform::limits::GRADE_LEVEL_MAX)
                .contains(&g) =>
        {
            Some(g)
        }
        _ => {
            e.add(
                "grade_level",
                format!(
                    "must be an integer between {} and {}",
                    platform::limits::GRADE_LEVEL_MIN,
                    platform::limits::GRADE_LEVEL_MAX
                ),
            );
            None
        }
    }
}

/// An optional course filter: empty is none.
fn course_filter(e: &mut FieldErrors, raw: Option<&str>) -> String {
    e.uuid_filter("course_id", raw.filter(|c| !c.is_empty()))
}

/// Raw parameters of `GET /reports/at-risk`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtRiskParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub reason: Option<String>,
    pub grade_level: Option<String>,
    pub course_id: Option<String>,
}

/// The longest cursor the API takes (as documented).
const CURSOR_MAX: usize = 2048;

/// The page parameters, with the cursor's documented length checked.
fn page(e: &mut FieldErrors, page: PageParams) -> common::PageRequest {
    if page.cursor.as_ref().is_some_and(|c| c.len() > CURSOR_MAX) {
        e.add("cursor", format!("must be at most {CURSOR_MAX} characters"));
    }
    page.parse(e)
}

impl AtRiskParams {
    pub fn into_proto(self) -> Result<pb::ListAtRiskRequest, ApiError> {
        let mut e = FieldErrors::default();
        let page = page(&mut e, self.page);
        let reason = match self.reason.as_deref() {
            None => pb::RiskReason::Unspecified,
            Some(r) => match RiskReason::parse(r) {
                Some(r) => r.to_proto(),
                None => {
                    e.add(
                        "reason",
                        "must be chronic_absence, consecutive_absences or low_grade",
                    );
                    pb::RiskReason::Unspecified
                }
            },
        };
        let grade_level = grade_level(&mut e, self.grade_level.as_deref());
        let course_id = course_filter(&mut e, self.course_id.as_deref());
        e.finish()?;
        Ok(pb::ListAtRiskRequest {
            reason: reason.into(),
            grade_level,
            course_id,
            page: Some(page),
        })
    }
}

/// Raw parameters of `GET /reports/course-grades`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseGradeParams {
    #[serde(flatten)]
    pub page: PageParams,
}

impl CourseGradeParams {
    pub fn into_proto(self) -> Result<pb::ListCourseGradesRequest, ApiError> {
        let mut e = FieldErrors::default();
        let page = page(&mut e, self.page);
        e.finish()?;
        Ok(pb::ListCourseGradesRequest { page: Some(page) })
    }
}

/// The longest report range, in days (both ends counted).
pub const MAX_REPORT_DAYS: i64 = 366;
/// Years of the school calendar the services take.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// `from`..`to` (both required, inclusive, at most [`MAX_REPORT_DAYS`]).
fn range(
    e: &mut FieldErrors,
    from: Option<&str>,
    to: Option<&str>,
) -> (Option<common::Date>, Option<common::Date>) {
    let mut date = |field: &str, raw: Option<&str>| -> Option<NaiveDate> {
        let Some(raw) = raw else {
            e.add(field, "is required (YYYY-MM-DD)");
            return None;
        };
        let d = e.date(field, raw)?;
        let d = NaiveDate::from_ymd_opt(d.year, d.month, d.day)?;
        if !YEARS.contains(&d.year()) {
            e.add(field, "must be in the years 2000-2100");
            return None;
        }
        Some(d)
    };
    let (from, to) = (date("from", from), date("to", to));
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            e.add("to", "must not be before from");
        } else if (t - f).num_days() + 1 > MAX_REPORT_DAYS {
            e.add(
                "to",
                format!("the range may cover at most {MAX_REPORT_DAYS} days"),
            );
        }
    }
    let proto = |d: NaiveDate| common::Date {
        year: d.year(),
        month: d.month(),
        day: d.day(),
    };
    (from.map(proto), to.map(proto))
}

/// Raw parameters of `GET /reports/attendance`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceReportParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub grade_level: Option<String>,
    pub course_id: Option<String>,
}

impl AttendanceReportParams {
    pub fn into_proto(self) -> Result<pb::AttendanceReportRequest, ApiError> {
        let mut e = FieldErrors::default();
        let (from, to) = range(&mut e, self.from.as_deref(), self.to.as_deref());
        let grade_level = grade_level(&mut e, self.grade_level.as_deref());
        let course_id = course_filter(&mut e, self.course_id.as_deref());
        e.finish()?;
        Ok(pb::AttendanceReportRequest {
            from,
            to,
            grade_level,
            course_id,
        })
    }
}

/// Raw parameters of `GET /reports/fees`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeesReportParams {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl FeesReportParams {
    pub fn into_proto(self) -> Result<pb::FeesReportRequest, ApiError> {
        let mut e = FieldErrors::default();
        let (from, to) = range(&mut e, self.from.as_deref(), self.to.as_deref());
        e.finish()?;
        Ok(pb::FeesReportRequest { from, to })
    }
}

/// The attendance report as JSON: written incrementally, one day at a time,
/// as the rows arrive from analytics-svc.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttendanceReport {
    /// School days with marks, oldest first.
    pub days: Vec<DailyAttendance>,
}

/// The fee report as JSON: written incrementally, as the rows arrive.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeesReport {
    /// Per month and currency, oldest first.
    pub months: Vec<FeesMonth>,
}

/// A report row: its JSON form and its CSV record.
pub trait ReportRow: Serialize {
    /// The JSON object's array member the rows go in.
    const FIELD: &'static str;
    /// The CSV header row.
    const HEADER: &'static [&'static str];
    fn record(&self) -> Vec<String>;
}

impl ReportRow for DailyAttendance {
    const FIELD: &'static str = "days";
    const HEADER: &'static [&'static str] =
        &["date", "present", "absent", "late", "excused", "rate"];
    fn record(&self) -> Vec<String> {
        vec![
            self.date.clone(),
            self.present.to_string(),
            self.absent.to_string(),
            self.late.to_string(),
            self.excused.to_string(),
            // Back to hundredths: exact, whatever the float prints.
            percent_text((self.rate * 100.0).round() as u32),
        ]
    }
}

impl ReportRow for FeesMonth {
    const FIELD: &'static str = "months";
    const HEADER: &'static [&'static str] =
        &["month", "currency", "billed", "collected", "outstanding"];
    fn record(&self) -> Vec<String> {
        vec![
            self.month.clone(),
            self.currency.clone(),
            self.billed.to_string(),
            self.collected.to_string(),
            self.outstanding.to_string(),
        ]
    }
}

impl From<pb::AttendanceReportRow> for DailyAttendance {
    fn from(r: pb::AttendanceReportRow) -> Self {
        r.day.unwrap_or_default().into()
    }
}

impl From<pb::FeesReportRow> for FeesMonth {
    fn from(r: pb::FeesReportRow) -> Self {
        r.month.unwrap_or_default().into()
    }
}

/// One CSV record (RFC 4180): fields joined by commas, a field holding a
/// comma, a quote or a line break quoted with its quotes doubled, CRLF at
/// the end.
pub fn csv_record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let f = f.as_ref();
        if f.contains([',', '"', '\r', '\n']) {
            line.push('"');
            line.push_str(&f.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(f);
        }
    }
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(r: Result<impl Sized, ApiError>) -> Vec<String> {
        match r {
            Err(ApiError::Validation(f)) => f.into_iter().map(|f| f.field).collect(),
            Err(other) => panic!("{other}"),
            Ok(_) => Vec::new(),
        }
    }

    fn fees(from: &str, to: &str) -> Vec<String> {
        fields(
            FeesReportParams {
                from: Some(from.into()),
                to: Some(to.into()),
            }
            .into_proto(),
        )
    }

    #[test]
    fn ranges_cover_at_most_366_days() {
        assert!(fees("2024-01-01", "2024-12-31").is_empty(), "366 days");
        assert!(fees("2025-01-01", "2026-01-01").is_empty(), "366 days");
        assert_eq!(fees("2025-01-01", "2026-01-02"), ["to"], "367 days");
        assert_eq!(fees("2025-01-02", "2025-01-01"), ["to"]);
        assert!(fees("2025-01-01", "2025-01-01").is_empty());
        assert_eq!(fees("2025-02-30", "2025-03-01"), ["from"]);
        assert_eq!(fees("1999-12-31", "2000-01-01"), ["from"]);
        assert_eq!(
            fields(
                FeesReportParams {
                    from: None,
                    to: None
                }
                .into_proto()
            ),
            ["from", "to"]
        );
    }

    #[test]
    fn filters_name_their_field() {
        let p = |reason: &str, grade: &str, course: &str| AtRiskParams {
            page: PageParams::default(),
            reason: Some(reason.into()),
            grade_level: Some(grade.into()),
            course_id: Some(course.into()),
        };
        assert!(fields(p("low_grade", "3", "").into_proto()).is_empty());
        assert_eq!(
            fields(p("bad", "13", "x").into_proto()),
            ["reason", "grade_level", "course_id"]
        );
        let r = p("chronic_absence", "0", "").into_proto().unwrap();
        assert_eq!(r.reason(), pb::RiskReason::ChronicAbsence);
        assert_eq!(r.page.unwrap().limit, super::super::DEFAULT_LIMIT);
    }

    #[test]
    fn rates_are_percentages_with_two_decimals() {
        assert_eq!(serde_json::json!(percent(9523)).to_string(), "95.23");
        assert_eq!(percent_text(9523), "95.23");
        assert_eq!(percent_text(5), "0.05");
        assert_eq!(percent_text(10000), "100.00");
        let day = DailyAttendance::from(pb::AttendanceCounts {
            date: "2026-01-05".into(),
            present: 3,
            absent: 1,
            late: 0,
            excused: 0,
            rate: 7501,
        });
        assert_eq!(day.record()[5], "75.01");
    }

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv_record(&["a", "b"]), "a,b\r\n");
        assert_eq!(
            csv_record(&["x,y", "say \"hi\"", "two\nlines", ""]),
            "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n"
        );
    }

    #[test]
    fn summary_reasons_take_either_spelling() {
        assert_eq!(
            RiskReason::from_text("RISK_REASON_LOW_GRADE"),
            Some(RiskReason::LowGrade)
        );
        assert_eq!(
            RiskReason::from_text("chronic_absence"),
            Some(RiskReason::ChronicAbsence)
        );
        assert_eq!(RiskReason::from_text("nope"), None);
    }
}
