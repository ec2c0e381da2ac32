//! `EnrolmentService`: admins enrol and withdraw; staff read rosters.

use deadpool_postgres::Pool;
use platform::caller::Caller;
use proto::students::v1 as pb;
use tonic::{Request, Response};

use super::domain::{EnrolmentKey, RosterQuery};
use super::model::enrolment;
use super::repo;
use crate::authz::{admin_only, staff_access};
use crate::Reply;

#[derive(Clone)]
pub struct EnrolmentApi {
    pool: Pool,
}

impl EnrolmentApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl pb::enrolment_service_server::EnrolmentService for EnrolmentApi {
    async fn enrol(&self, req: Request<pb::EnrolRequest>) -> Reply<pb::Enrolment> {
        let caller = Caller::of(&req)?;
        admin_only(&caller)?;
        let r = req.get_ref();
        let k = EnrolmentKey::parse(&r.course_id, &r.student_id)?;
        let e = repo::enrol(&self.pool, caller.school_id, caller.user_id, &k).await?;
        Ok(Response::new(enrolment(e)))
    }

    async fn withdraw(&self, req: Request<pb::WithdrawRequest>) -> Reply<pb::Enrolment> {
        let caller = Caller::of(&req)?;
        admin_only(&caller)?;
        let r = req.get_ref();
        let k = EnrolmentKey::parse(&r.course_id, &r.student_id)?;
        let e = repo::withdraw(&self.pool, caller.school_id, caller.user_id, &k).await?;
        Ok(Response::new(enrolment(e)))
    }

    async fn list_roster(
        &self,
        req: Request<pb::ListRosterRequest>,
    ) -> Reply<pb::ListRosterResponse> {
        let caller = Caller::of(&req)?;
        let access = staff_access(&caller)?;
        let q = RosterQuery::try_from(req.into_inner())?;
        let (rows, next) = repo::list_roster(&self.pool, caller.school_id, access, &q)
            .await?
            .into_parts();
        Ok(Response::new(pb::ListRosterResponse {
            enrolments: rows.into_iter().map(enrolment).collect(),
            page: Some(proto::common::v1::PageInfo { next_cursor: next }),
        }))
    }
}
