//! gRPC handlers for courses, enrolments and attendance: read the caller,
//! parse into domain types, authorise, call the repository, map the rows.

use platform::caller::{Caller, Role};
use proto::students::v1 as pb;
use tonic::{Request, Response, Status};

use super::domain::{
    format_clock, AttendanceRange, CourseFilter, CourseUpdate, EnrolmentKey, Marks, NewCourse,
    NewSlot, RosterQuery, Session,
};
use super::repo::{self, AttendanceRow, CourseRow, DayRow, EnrolmentRow, MarkKind, SlotRow};
use crate::api::Api;
use crate::authz::{admin_only, staff_access, Access};
use crate::convert::{date, timestamp};
use crate::domain::parse_id;
use crate::error::ServiceError;

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl pb::course_service_server::CourseService for Api {
    async fn create_course(&self, req: Request<pb::CreateCourseRequest>) -> Reply<pb::Course> {
        let caller = Caller::read(req.metadata())?;
        admin_only(&caller)?;
        let new = NewCourse::try_from(req.into_inner())?;
        let c = repo::create_course(self.pool(), caller.school_id, caller.user_id, &new).await?;
        Ok(Response::new(course(c, Vec::new())))
    }

    async fn get_course(&self, req: Request<pb::GetCourseRequest>) -> Reply<pb::Course> {
        let caller = Caller::read(req.metadata())?;
        let access = staff_access(&caller)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let Some((c, slots)) = repo::get_course(self.pool(), caller.school_id, id).await? else {
            return Err(ServiceError::NotFound("course").into());
        };
        if let Access::TeacherOf(t) = access {
            if t != c.teacher_id {
                return Err(ServiceError::PermissionDenied(
                    "you may only access the courses you teach",
                )
                .into());
            }
        }
        Ok(Response::new(course(c, slots)))
    }

    async fn update_course(&self, req: Request<pb::UpdateCourseRequest>) -> Reply<pb::Course> {
        let caller = Caller::read(req.metadata())?;
        admin_only(&caller)?;
        let u = CourseUpdate::try_from(req.into_inner())?;
        let c = repo::update_course(self.pool(), caller.school_id, caller.user_id, &u).await?;
        Ok(Response::new(course(c, Vec::new())))
    }

    async fn list_courses(
        &self,
        req: Request<pb::ListCoursesRequest>,
    ) -> Reply<pb::ListCoursesResponse> {
        let caller = Caller::read(req.metadata())?;
        let access = staff_access(&caller)?;
        let mut filter = CourseFilter::try_from(req.into_inner())?;
        if let Access::TeacherOf(me) = access {
            if filter.teacher_id.is_some_and(|t| t != me) {
                return Err(ServiceError::PermissionDenied(
                    "teachers may only list the courses they teach",
                )
                .into());
            }
            filter.teacher_id = Some(me);
        }
        let (rows, next) = repo::list_courses(self.pool(), caller.school_id, &filter).await?;
        Ok(Response::new(pb::ListCoursesResponse {
            courses: rows.into_iter().map(|c| course(c, Vec::new())).collect(),
            page: Some(proto::common::v1::PageInfo {
                next_cursor: next.map(|c| c.encode()).unwrap_or_default(),
            }),
        }))
    }

    async fn add_timetable_slot(
        &self,
        req: Request<pb::AddTimetableSlotRequest>,
    ) -> Reply<pb::TimetableSlot> {
        let caller = Caller::read(req.metadata())?;
        admin_only(&caller)?;
        let new = NewSlot::try_from(req.into_inner())?;
        let s = repo::add_slot(self.pool(), caller.school_id, caller.user_id, &new).await?;
        Ok(Response::new(slot(s)))
    }
}

#[tonic::async_trait]
impl pb::enrolment_service_server::EnrolmentService for Api {
    async fn enrol(&self, req: Request<pb::EnrolRequest>) -> Reply<pb::Enrolment> {
        let caller = Caller::read(req.metadata())?;
        admin_only(&caller)?;
        let r = req.get_ref();
        let k = EnrolmentKey::parse(&r.course_id, &r.student_id)?;
        let e = repo::enrol(self.pool(), caller.school_id, caller.user_id, &k).await?;
        Ok(Response::new(enrolment(e)))
    }

    async fn withdraw(&self, req: Request<pb::WithdrawRequest>) -> Reply<pb::Enrolment> {
        let caller = Caller::read(req.metadata())?;
        admin_only(&caller)?;
        let r = req.get_ref();
        let k = EnrolmentKey::parse(&r.course_id, &r.student_id)?;
        let e = repo::withdraw(self.pool(), caller.school_id, caller.user_id, &k).await?;
        Ok(Response::new(enrolment(e)))
    }

    async fn list_roster(
        &self,
        req: Request<pb::ListRosterRequest>,
    ) -> Reply<pb::ListRosterResponse> {
        let caller = Caller::read(req.metadata())?;
        let access = staff_access(&caller)?;
        let q = RosterQuery::try_from(req.into_inner())?;
        let (rows, next) = repo::list_roster(self.pool(), caller.school_id, access, &q).await?;
        Ok(Response::new(pb::ListRosterResponse {
            enrolments: rows.into_iter().map(enrolment).collect(),
            page: Some(proto::common::v1::PageInfo {
                next_cursor: next.map(|c| c.encode()).unwrap_or_default(),
            }),
        }))
    }
}

#[tonic::async_trait]
impl pb::attendance_service_server::AttendanceService for Api {
    async fn mark_attendance(
        &self,
        req: Request<pb::MarkAttendanceRequest>,
    ) -> Reply<pb::AttendanceSession> {
        let caller = Caller::read(req.metadata())?;
        let access = staff_access(&caller)?;
        let m = Marks::try_from(req.into_inner())?;
        let rows = repo::mark_attendance(
            self.pool(),
            caller.school_id,
            caller.user_id,
            access,
            MarkKind::Mark,
            &m,
        )
        .await?;
        Ok(Response::new(session(&m.session, rows)))
    }

    async fn override_attendance(
        &self,
        req: Request<pb::OverrideAttendanceRequest>,
    ) -> Reply<pb::AttendanceSession> {
        let caller = Caller::read(req.metadata())?;
        admin_only(&caller)?;
        let m = Marks::try_from(req.into_inner())?;
        let rows = repo::mark_attendance(
            self.pool(),
            caller.school_id,
            caller.user_id,
            Access::Any,
            MarkKind::Override,
            &m,
        )
        .await?;
        Ok(Response::new(session(&m.session, rows)))
    }

    async fn get_attendance_session(
        &self,
        req: Request<pb::GetAttendanceSessionRequest>,
    ) -> Reply<pb::AttendanceSession> {
        let caller = Caller::read(req.metadata())?;
        let access = staff_access(&caller)?;
        let s = Session::try_from(req.into_inner())?;
        let rows = repo::get_session(self.pool(), caller.school_id, access, &s).await?;
        Ok(Response::new(session(&s, rows)))
    }

    async fn get_student_attendance(
        &self,
        req: Request<pb::GetStudentAttendanceRequest>,
    ) -> Reply<pb::StudentAttendance> {
        let caller = Caller::read(req.metadata())?;
        let r = AttendanceRange::try_from(req.into_inner())?;
        let access = match caller.role {
            Role::Student if caller.student_id == Some(r.student_id) => Access::Any,
            Role::Student => {
                return Err(
                    ServiceError::PermissionDenied("you may only read your own attendance").into(),
                )
            }
            // A guardian reads only a linked child's, whether or not another
            // student with that id exists: the link is checked in the read.
            Role::Guardian => {
                return match repo::child_attendance(
                    self.pool(),
                    caller.school_id,
                    caller.user_id,
                    &r,
                )
                .await?
                {
                    Some(days) => Ok(Response::new(student_attendance(&r, days))),
                    None => Err(ServiceError::PermissionDenied(
                        "you may only read your own children's attendance",
                    )
                    .into()),
                };
            }
            _ => staff_access(&caller)?,
        };
        let days = repo::student_attendance(self.pool(), caller.school_id, access, &r).await?;
        Ok(Response::new(student_attendance(&r, days)))
    }
}

fn student_attendance(r: &AttendanceRange, days: Vec<DayRow>) -> pb::StudentAttendance {
    pb::StudentAttendance {
        student_id: r.student_id.to_string(),
        days: days.into_iter().map(day).collect(),
    }
}

fn course(c: CourseRow, slots: Vec<SlotRow>) -> pb::Course {
    pb::Course {
        id: c.id.to_string(),
        school_id: c.school_id.to_string(),
        code: c.code,
        name: c.name,
        term: c.term,
        teacher_id: c.teacher_id.to_string(),
        capacity: c.capacity,
        enrolled: c.enrolled,
        version: c.version,
        created_at: Some(timestamp(c.created_at)),
        updated_at: Some(timestamp(c.updated_at)),
        slots: slots.into_iter().map(slot).collect(),
    }
}

fn slot(s: SlotRow) -> pb::TimetableSlot {
    pb::TimetableSlot {
        id: s.id.to_string(),
        course_id: s.course_id.to_string(),
        weekday: i32::from(s.weekday),
        start: format_clock(s.start),
        end: format_clock(s.end),
        room: s.room,
    }
}

fn enrolment(e: EnrolmentRow) -> pb::Enrolment {
    pb::Enrolment {
        id: e.id.to_string(),
        course_id: e.course_id.to_string(),
        student_id: e.student_id.to_string(),
        admission_no: e.admission_no,
        given_name: e.given_name,
        family_name: e.family_name,
        enrolled_at: Some(timestamp(e.enrolled_at)),
        withdrawn_at: e.withdrawn_at.map(timestamp),
    }
}

fn status(s: Option<super::domain::AttendanceStatus>) -> i32 {
    s.map_or(pb::AttendanceStatus::Unspecified, |s| s.to_proto())
        .into()
}

fn record(a: AttendanceRow) -> pb::AttendanceRecord {
    pb::AttendanceRecord {
        student_id: a.student_id.to_string(),
        teacher_status: status(a.teacher_status),
        note: a.note,
        marked_by: a.marked_by.map(|u| u.to_string()).unwrap_or_default(),
        marked_at: a.marked_at.map(timestamp),
        override_status: status(a.override_status),
        override_reason: a.override_reason.unwrap_or_default(),
        overridden_by: a.overridden_by.map(|u| u.to_string()).unwrap_or_default(),
        overridden_at: a.overridden_at.map(timestamp),
        effective_status: status(a.effective_status),
        revision: a.revision,
    }
}

fn session(s: &Session, rows: Vec<AttendanceRow>) -> pb::AttendanceSession {
    pb::AttendanceSession {
        course_id: s.course_id.to_string(),
        date: Some(date(s.date)),
        period: s.period.get() as u32,
        records: rows.into_iter().map(record).collect(),
    }
}

fn day(d: DayRow) -> pb::AttendanceDay {
    let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
    pb::AttendanceDay {
        date: Some(date(d.date)),
        present: n(d.present),
        absent: n(d.absent),
        late: n(d.late),
        excused: n(d.excused),
    }
}
