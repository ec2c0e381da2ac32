//! The shape every service-backed handler shares, in one place: extract the
//! verified caller with the worker's gRPC clients ([`Rpc`]), check the role,
//! call the service with the caller in the metadata ([`Rpc::request`]; a
//! failed status becomes an [`ApiError`] through `?`), answer JSON
//! ([`ok`], [`created`]).
//!
//! ```text
//! pub async fn archive(rpc: Rpc, id: web::Path<String>) -> Reply {
//!     rpc.require(ADMIN)?;
//!     let msg = pb::ArchiveStudentRequest { id: path_id(&id)?.to_string() };
//!     let s = rpc.students().archive_student(rpc.request(msg)).await?;
//!     ok(Student::from(s.into_inner()))
//! }
//! ```

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse};
use platform::caller::{Caller, Role};
use proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use proto::notify::v1::announcement_service_client::AnnouncementServiceClient;
use proto::notify::v1::delivery_admin_service_client::DeliveryAdminServiceClient;
use proto::notify::v1::notification_service_client::NotificationServiceClient;
use proto::notify::v1::notification_template_service_client::NotificationTemplateServiceClient;
use proto::notify::v1::report_card_service_client::ReportCardServiceClient;
use proto::students::v1::{
    attendance_service_client::AttendanceServiceClient, auth_service_client::AuthServiceClient,
    course_service_client::CourseServiceClient, enrolment_service_client::EnrolmentServiceClient,
    fee_service_client::FeeServiceClient, grade_service_client::GradeServiceClient,
    guardian_service_client::GuardianServiceClient, school_service_client::SchoolServiceClient,
    staff_service_client::StaffServiceClient, student_service_client::StudentServiceClient,
    user_service_client::UserServiceClient,
};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::problem::ApiError;
use crate::services::request;
use crate::state::AppState;

/// What a handler answers.
pub type Reply = Result<HttpResponse, ApiError>;

/// `200 OK` with `body` as JSON.
pub fn ok(body: impl Serialize) -> Reply {
    Ok(HttpResponse::Ok().json(body))
}

/// `201 Created` with `body` as JSON.
pub fn created(body: impl Serialize) -> Reply {
    Ok(HttpResponse::Created().json(body))
}

/// Admins only.
pub const ADMIN: &[Role] = &[Role::Admin];
/// Admins and teachers.
pub const STAFF: &[Role] = &[Role::Admin, Role::Teacher];

/// The verified caller of a request and the worker's gRPC clients.
/// Extracting it authenticates, exactly as [`Authenticated`] does (401
/// without a valid token). The role check is a call in the handler, not part
/// of the extraction: some routes check the path id first, and which of two
/// errors a request gets must not change.
pub struct Rpc {
    caller: Caller,
    state: web::Data<AppState>,
}

impl FromRequest for Rpc {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = match Authenticated::from_request(req, payload).into_inner() {
            Ok(Authenticated(caller)) => caller,
            Err(e) => return ready(Err(e)),
        };
        // Always there: startup stores the state before any route.
        let state = req.app_data::<web::Data<AppState>>().cloned();
        ready(
            state
                .map(|state| Self { caller, state })
                .ok_or_else(ApiError::internal),
        )
    }
}

/// The clients, each a cheap clone of the worker's (a call needs its own
/// `&mut` client).
macro_rules! clients {
    ($($name:ident: $client:ident),* $(,)?) => {
        impl Rpc {
            $(
                pub fn $name(&self) -> $client<crate::services::Svc> {
                    self.state.services.$name.clone()
                }
            )*
        }
    };
}

clients! {
    schools: SchoolServiceClient,
    auth: AuthServiceClient,
    users: UserServiceClient,
    students: StudentServiceClient,
    guardians: GuardianServiceClient,
    staff: StaffServiceClient,
    courses: CourseServiceClient,
    enrolments: EnrolmentServiceClient,
    attendance: AttendanceServiceClient,
    fees: FeeServiceClient,
    grades: GradeServiceClient,
    notifications: NotificationServiceClient,
    notification_templates: NotificationTemplateServiceClient,
    deliveries: DeliveryAdminServiceClient,
    announcements: AnnouncementServiceClient,
    report_cards: ReportCardServiceClient,
    analytics: AnalyticsServiceClient,
}

impl Rpc {
    /// The caller (for routes whose rule is not a role list).
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The route's role check: 403 unless the caller has one of `allowed`.
    pub fn require(&self, allowed: &[Role]) -> Result<&Caller, ApiError> {
        if allowed.contains(&self.caller().role) {
            Ok(self.caller())
        } else {
            Err(ApiError::Forbidden("your role may not perform this action"))
        }
    }

    /// The role check of a route about one student: a student only about
    /// themself (another student's records are 404 to them, existing or
    /// not, so editing the id in a URL tells nothing), other roles as
    /// `allowed` says (403 for a role the route is not for). A guardian's
    /// link to the student is students-svc's to check, in the same
    /// statement as the read (not linked: 404 too).
    pub fn require_student(&self, student_id: Uuid, allowed: &[Role]) -> Result<&Caller, ApiError> {
        let caller = self.caller();
        match caller.role {
            Role::Student if caller.student_id == Some(student_id) => Ok(caller),
            Role::Student => Err(ApiError::NotFound("student not found")),
            _ => self.require(allowed),
        }
    }

    /// `msg` as a gRPC request on behalf of the caller: the caller, the
    /// request id and the trace context in its metadata.
    pub fn request<T>(&self, msg: T) -> tonic::Request<T> {
        request(msg, Some(&self.caller))
    }
}
