//! gRPC clients, created once at start-up over lazily connecting channels
//! with connect and request timeouts, and the metadata every call carries.

use platform::caller::{Caller, REQUEST_ID};
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
use std::time::Duration;

use platform::trust::{ServiceKey, Signed};
use platform::{balance::Targets, grpc::ClientTimeouts};
use tonic::{metadata::MetadataValue, transport::Channel};
use tonic_health::pb::health_client::HealthClient;

use crate::config::Config;

/// A channel that vouches for each call's caller (platform::trust).
pub type Svc = Signed<Channel>;

#[derive(Clone)]
pub struct Services {
    pub schools: SchoolServiceClient<Svc>,
    pub auth: AuthServiceClient<Svc>,
    pub users: UserServiceClient<Svc>,
    pub students: StudentServiceClient<Svc>,
    pub guardians: GuardianServiceClient<Svc>,
    pub staff: StaffServiceClient<Svc>,
    pub courses: CourseServiceClient<Svc>,
    pub enrolments: EnrolmentServiceClient<Svc>,
    pub attendance: AttendanceServiceClient<Svc>,
    pub fees: FeeServiceClient<Svc>,
    pub grades: GradeServiceClient<Svc>,
    pub students_health: HealthClient<Channel>,
    pub notifications: NotificationServiceClient<Svc>,
    pub notification_templates: NotificationTemplateServiceClient<Svc>,
    pub deliveries: DeliveryAdminServiceClient<Svc>,
    pub announcements: AnnouncementServiceClient<Svc>,
    pub report_cards: ReportCardServiceClient<Svc>,
    pub analytics: AnalyticsServiceClient<Svc>,
}

/// Validated targets of the services, from config.
#[derive(Clone)]
pub struct Endpoints {
    pub students: Targets,
    pub notify: Targets,
    pub analytics: Targets,
    timeouts: ClientTimeouts,
    discovery: Duration,
    key: ServiceKey,
    /// TLS to the services (`None`: plaintext, `make run` only).
    tls: Option<tonic::transport::ClientTlsConfig>,
}

impl Endpoints {
    pub fn from_config(c: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            students: c.students_url.parse()?,
            notify: c.notify_url.parse()?,
            analytics: c.analytics_url.parse()?,
            timeouts: c.grpc_timeouts(),
            discovery: Duration::from_millis(c.grpc_discovery_interval_ms.max(10)),
            key: c.service_auth_key.clone(),
            tls: c.grpc_tls.client()?,
        })
    }
}

impl Services {
    /// Channels owned by the calling worker thread: each HTTP worker gets its
    /// own HTTP/2 connections (one per healthy replica), so no worker funnels
    /// its calls through another.
    pub fn connect(e: &Endpoints) -> Self {
        let balanced = |t: &Targets| {
            platform::balance::channel(t.clone(), e.timeouts, e.discovery, e.tls.clone())
        };
        let (students, notify) = (balanced(&e.students), balanced(&e.notify));
        let signed = |c: &Channel| Signed::new(c.clone(), e.key.clone());
        Self {
            schools: SchoolServiceClient::new(signed(&students)),
            auth: AuthServiceClient::new(signed(&students)),
            users: UserServiceClient::new(signed(&students)),
            students: StudentServiceClient::new(signed(&students)),
            guardians: GuardianServiceClient::new(signed(&students)),
            staff: StaffServiceClient::new(signed(&students)),
            courses: CourseServiceClient::new(signed(&students)),
            enrolments: EnrolmentServiceClient::new(signed(&students)),
            attendance: AttendanceServiceClient::new(signed(&students)),
            fees: FeeServiceClient::new(signed(&students)),
            grades: GradeServiceClient::new(signed(&students)),
            students_health: HealthClient::new(students),
            notifications: NotificationServiceClient::new(signed(&notify)),
            notification_templates: NotificationTemplateServiceClient::new(signed(&notify)),
            deliveries: DeliveryAdminServiceClient::new(signed(&notify)),
            announcements: AnnouncementServiceClient::new(signed(&notify)),
            report_cards: ReportCardServiceClient::new(signed(&notify)),
            analytics: AnalyticsServiceClient::new(signed(&balanced(&e.analytics))),
        }
    }
}

/// A gRPC request carrying the caller (if any), the request id and the trace
/// context.
pub fn request<T>(msg: T, caller: Option<&Caller>) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    if let Some(c) = caller {
        c.write(req.metadata_mut());
    }
    if let Ok(v) = MetadataValue::try_from(crate::request_id::current()) {
        req.metadata_mut().insert(REQUEST_ID, v);
    }
    platform::telemetry::inject_current(&mut platform::telemetry::Metadata(req.metadata_mut()));
    req
}
