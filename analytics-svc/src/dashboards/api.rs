//! `school.analytics.v1.AnalyticsService`: `Caller::read` → parse → role
//! check → repo → reply. Every answer is about the caller's school only.

use deadpool_postgres::Pool;
use platform::{
    caller::{Caller, Role},
    service::{parse_id, ServiceError},
};
use proto::analytics::v1 as pb;
use tonic::{Request, Response, Status};

use super::{domain::reach, repo};
use crate::{
    at_risk, course_grades,
    domain::Clock,
    reports::{self, repo::Rows},
};

type Reply<T> = Result<Response<T>, Status>;

pub struct AnalyticsApi {
    pool: Pool,
    clock: Clock,
}

impl AnalyticsApi {
    pub fn new(pool: Pool, clock: Clock) -> Self {
        Self { pool, clock }
    }
}

fn require(caller: &Caller, roles: &[Role]) -> Result<(), ServiceError> {
    if roles.contains(&caller.role) {
        Ok(())
    } else {
        Err(ServiceError::PermissionDenied("your role may not do this"))
    }
}

#[tonic::async_trait]
impl pb::analytics_service_server::AnalyticsService for AnalyticsApi {
    async fn get_school_dashboard(
        &self,
        req: Request<pb::GetSchoolDashboardRequest>,
    ) -> Reply<pb::SchoolDashboard> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let d = repo::school_dashboard(&self.pool, caller.school_id, self.clock.now()).await?;
        Ok(Response::new(d))
    }

    async fn get_teacher_dashboard(
        &self,
        req: Request<pb::GetTeacherDashboardRequest>,
    ) -> Reply<pb::TeacherDashboard> {
        let caller = Caller::of(&req)?;
        // The signed-in teacher's own: there is no parameter naming another.
        require(&caller, &[Role::Teacher])?;
        let d = repo::teacher_dashboard(
            &self.pool,
            caller.school_id,
            caller.user_id,
            self.clock.now(),
        )
        .await?;
        Ok(Response::new(d))
    }

    async fn get_student_summary(
        &self,
        req: Request<pb::GetStudentSummaryRequest>,
    ) -> Reply<pb::StudentSummary> {
        let caller = Caller::of(&req)?;
        let id = parse_id("student_id", &req.get_ref().student_id)?;
        let (reach, view) = reach(&caller, id)?;
        let s = repo::student_summary(
            &self.pool,
            caller.school_id,
            id,
            reach,
            view,
            self.clock.now(),
        )
        .await?;
        Ok(Response::new(s))
    }

    async fn list_at_risk(
        &self,
        req: Request<pb::ListAtRiskRequest>,
    ) -> Reply<pb::ListAtRiskResponse> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin, Role::Teacher])?;
        let q = at_risk::domain::Query::try_from(req.into_inner())?;
        let teacher = (caller.role == Role::Teacher).then_some(caller.user_id);
        let (students, next) = at_risk::repo::list(&self.pool, caller.school_id, teacher, &q)
            .await?
            .into_parts();
        Ok(Response::new(pb::ListAtRiskResponse {
            students,
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }

    async fn list_course_grades(
        &self,
        req: Request<pb::ListCourseGradesRequest>,
    ) -> Reply<pb::ListCourseGradesResponse> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let q = course_grades::domain::Query::try_from(req.into_inner())?;
        let (courses, next) = course_grades::repo::list(&self.pool, caller.school_id, &q)
            .await?
            .into_parts();
        Ok(Response::new(pb::ListCourseGradesResponse {
            courses,
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }

    type AttendanceReportStream = Rows<pb::AttendanceReportRow>;

    async fn attendance_report(
        &self,
        req: Request<pb::AttendanceReportRequest>,
    ) -> Reply<Self::AttendanceReportStream> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let q = reports::domain::AttendanceQuery::try_from(req.into_inner())?;
        Ok(Response::new(reports::repo::attendance(
            self.pool.clone(),
            caller.school_id,
            q,
        )))
    }

    type FeesReportStream = Rows<pb::FeesReportRow>;

    async fn fees_report(
        &self,
        req: Request<pb::FeesReportRequest>,
    ) -> Reply<Self::FeesReportStream> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let range = reports::domain::Range::try_from(req.into_inner())?;
        Ok(Response::new(reports::repo::fees(
            self.pool.clone(),
            caller.school_id,
            range,
        )))
    }
}
