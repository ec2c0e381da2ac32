//! `GradeService` handlers: caller → parse → authorise → repo → reply.
//!
//! Admins reach every course's assessments; a teacher only those of the
//! courses they teach (checked against the stored course). A student reads
//! only their own published grades, and a guardian those of a linked child.

use deadpool_postgres::Pool;
use platform::caller::{Caller, Role};
use platform::service::{parse_id, ServiceError};
use proto::students::v1 as pb;
use tonic::{Request, Response};

use super::domain::{
    AssessmentQuery, AssessmentUpdate, GradeEntries, NewAssessment, StudentGradesQuery,
};
use super::model::{assessment, sheet, student_grade};
use super::repo::{self, Reach};
use crate::authz::staff_access;
use crate::Reply;

#[derive(Clone)]
pub struct GradesApi {
    pool: Pool,
}

impl GradesApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl pb::grade_service_server::GradeService for GradesApi {
    async fn create_assessment(
        &self,
        req: Request<pb::CreateAssessmentRequest>,
    ) -> Reply<pb::Assessment> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let new = NewAssessment::try_from(req.into_inner())?;
        let a = repo::create_assessment(&self.pool, caller.school_id, caller.user_id, access, &new)
            .await?;
        Ok(Response::new(assessment(a)))
    }

    async fn get_assessment(
        &self,
        req: Request<pb::GetAssessmentRequest>,
    ) -> Reply<pb::Assessment> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let id = parse_id("id", &req.get_ref().id)?;
        let a = repo::get_assessment(&self.pool, caller.school_id, access, id).await?;
        Ok(Response::new(assessment(a)))
    }

    async fn update_assessment(
        &self,
        req: Request<pb::UpdateAssessmentRequest>,
    ) -> Reply<pb::Assessment> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let u = AssessmentUpdate::try_from(req.into_inner())?;
        let a = repo::update_assessment(&self.pool, caller.school_id, caller.user_id, access, &u)
            .await?;
        Ok(Response::new(assessment(a)))
    }

    async fn list_assessments(
        &self,
        req: Request<pb::ListAssessmentsRequest>,
    ) -> Reply<pb::ListAssessmentsResponse> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let q = AssessmentQuery::try_from(req.into_inner())?;
        let (rows, next) = repo::list_assessments(&self.pool, caller.school_id, access, &q)
            .await?
            .into_parts();
        Ok(Response::new(pb::ListAssessmentsResponse {
            assessments: rows.into_iter().map(assessment).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }

    async fn record_grades(&self, req: Request<pb::RecordGradesRequest>) -> Reply<pb::GradeSheet> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let g = GradeEntries::try_from(req.into_inner())?;
        let (a, grades) =
            repo::record_grades(&self.pool, caller.school_id, caller.user_id, access, &g).await?;
        Ok(Response::new(sheet(&a, grades)))
    }

    async fn get_grades(&self, req: Request<pb::GetGradesRequest>) -> Reply<pb::GradeSheet> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let id = parse_id("assessment_id", &req.get_ref().assessment_id)?;
        let (a, grades) = repo::get_grades(&self.pool, caller.school_id, access, id).await?;
        Ok(Response::new(sheet(&a, grades)))
    }

    async fn publish_grades(
        &self,
        req: Request<pb::PublishGradesRequest>,
    ) -> Reply<pb::Assessment> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let id = parse_id("assessment_id", &req.get_ref().assessment_id)?;
        let a =
            repo::publish_grades(&self.pool, caller.school_id, caller.user_id, access, id).await?;
        Ok(Response::new(assessment(a)))
    }

    async fn list_student_grades(
        &self,
        req: Request<pb::ListStudentGradesRequest>,
    ) -> Reply<pb::StudentGrades> {
        let caller = Caller::of(&req)?;
        let q = StudentGradesQuery::try_from(req.into_inner())?;
        let reach = match caller.role {
            Role::Admin => Reach::All,
            Role::Teacher => Reach::TeacherOf(caller.user_id),
            Role::Student if caller.student_id == Some(q.student_id) => Reach::Published,
            Role::Guardian => Reach::ChildOf(caller.user_id),
            // Someone else's grades: NOT_FOUND, as their record is.
            Role::Student => return Err(ServiceError::NotFound("student").into()),
        };
        let (rows, next) = repo::student_grades(&self.pool, caller.school_id, reach, &q)
            .await?
            .into_parts();
        Ok(Response::new(pb::StudentGrades {
            student_id: q.student_id.to_string(),
            grades: rows.into_iter().map(student_grade).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }
}
