//! `CourseService`: read the caller, parse, authorise, call the repository,
//! map the rows.

use deadpool_postgres::Pool;
use platform::caller::Caller;
use platform::service::{parse_id, ServiceError};
use proto::students::v1 as pb;
use tonic::{Request, Response};

use super::domain::{CourseFilter, CourseUpdate, NewCourse};
use super::model::course;
use super::repo;
use crate::authz::{admin_only, staff_access, Access};
use crate::timetable::{domain::NewSlot, model::slot, repo as timetable};
use crate::Reply;

#[derive(Clone)]
pub struct CourseApi {
    pool: Pool,
}

impl CourseApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl pb::course_service_server::CourseService for CourseApi {
    async fn create_course(&self, req: Request<pb::CreateCourseRequest>) -> Reply<pb::Course> {
        let caller = Caller::of(&req)?;
        admin_only(&caller)?;
        let new = NewCourse::try_from(req.into_inner())?;
        let c = repo::create_course(&self.pool, caller.school_id, caller.user_id, &new).await?;
        Ok(Response::new(course(c, Vec::new())))
    }

    async fn get_course(&self, req: Request<pb::GetCourseRequest>) -> Reply<pb::Course> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let Some((c, slots)) = repo::get_course(&self.pool, caller.school_id, id).await? else {
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
        let caller = Caller::of(&req)?;
        admin_only(&caller)?;
        let u = CourseUpdate::try_from(req.into_inner())?;
        let c = repo::update_course(&self.pool, caller.school_id, caller.user_id, &u).await?;
        Ok(Response::new(course(c, Vec::new())))
    }

    async fn list_courses(
        &self,
        req: Request<pb::ListCoursesRequest>,
    ) -> Reply<pb::ListCoursesResponse> {
        let caller = Caller::of(&req)?;
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
        let (rows, next) = repo::list_courses(&self.pool, caller.school_id, &filter)
            .await?
            .into_parts();
        Ok(Response::new(pb::ListCoursesResponse {
            courses: rows.into_iter().map(|c| course(c, Vec::new())).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }

    async fn add_timetable_slot(
        &self,
        req: Request<pb::AddTimetableSlotRequest>,
    ) -> Reply<pb::TimetableSlot> {
        let caller = Caller::of(&req)?;
        admin_only(&caller)?;
        let new = NewSlot::try_from(req.into_inner())?;
        let s = timetable::add_slot(&self.pool, caller.school_id, caller.user_id, &new).await?;
        Ok(Response::new(slot(s)))
    }
}
