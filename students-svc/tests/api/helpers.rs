use pb::{
    attendance_service_client::AttendanceServiceClient, auth_service_client::AuthServiceClient,
    course_service_client::CourseServiceClient, enrolment_service_client::EnrolmentServiceClient,
    fee_service_client::FeeServiceClient, guardian_service_client::GuardianServiceClient,
    school_service_client::SchoolServiceClient, staff_service_client::StaffServiceClient,
    student_service_client::StudentServiceClient, user_service_client::UserServiceClient,
};
use platform::caller::{Caller, Role};
use platform::testing::{fresh_database, TestDatabase};
use platform::trust::Signed;
use proto::common::v1 as common;
use proto::students::v1 as pb;
use students_svc::{config::Config, startup::Application};
use tokio::sync::oneshot;
use tonic::transport::Channel;

/// A channel that vouches for its callers (platform::trust).
pub type Svc = Signed<Channel>;

pub struct TestApp {
    pub db: TestDatabase,
    /// The admin listener (`/metrics`).
    pub admin: std::net::SocketAddr,
    /// Vouches for the callers of its calls, as the gateway's channels do.
    pub channel: Svc,
    /// Vouches for nobody: a process that reached the port without the key.
    pub raw: Channel,
    _stop: oneshot::Sender<()>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        platform::telemetry::init(platform::telemetry::LogFormat::Pretty);
    }
    let db = fresh_database().await.expect("fresh database");
    let mut config = Config::for_database(&db.students_url);
    tweak(&mut config);
    let app = Application::build(&config)
        .await
        .expect("build students-svc");
    let addr = app.local_addr();
    let admin = app.admin_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connect to students-svc");
    TestApp {
        db,
        admin,
        channel: Signed::new(channel.clone(), config.service_auth_key.clone()),
        raw: channel,
        _stop: stop,
    }
}

pub fn with_caller<T>(caller: &Caller, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    caller.write(req.metadata_mut());
    req
}

/// A request the operator makes (creating a school).
pub fn as_operator<T>(msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    platform::trust::as_operator(&mut req);
    req
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    pub fn schools(&self) -> SchoolServiceClient<Svc> {
        SchoolServiceClient::new(self.channel.clone())
    }
    pub fn auth(&self) -> AuthServiceClient<Svc> {
        AuthServiceClient::new(self.channel.clone())
    }
    pub fn users(&self) -> UserServiceClient<Svc> {
        UserServiceClient::new(self.channel.clone())
    }
    pub fn students(&self) -> StudentServiceClient<Svc> {
        StudentServiceClient::new(self.channel.clone())
    }
    pub fn guardians(&self) -> GuardianServiceClient<Svc> {
        GuardianServiceClient::new(self.channel.clone())
    }
    pub fn staff(&self) -> StaffServiceClient<Svc> {
        StaffServiceClient::new(self.channel.clone())
    }

    /// The outbox, decoded, in insertion order.
    pub async fn events(&self) -> Vec<proto::events::v1::Event> {
        use prost::Message;
        let c = platform::testing::connect(&self.db.admin_url)
            .await
            .expect("admin connection");
        c.query("SELECT payload FROM students.outbox ORDER BY id", &[])
            .await
            .expect("read outbox")
            .iter()
            .map(|r| proto::events::v1::Event::decode(r.get::<_, &[u8]>(0)).expect("decode event"))
            .collect()
    }

    /// The outbox's events about the given aggregate types, in order.
    pub async fn events_of(&self, kinds: &[&str]) -> Vec<proto::events::v1::Event> {
        let mut events = self.events().await;
        events.retain(|e| kinds.contains(&e.aggregate_type.as_str()));
        events
    }

    pub fn fees(&self) -> FeeServiceClient<Svc> {
        FeeServiceClient::new(self.channel.clone())
    }

    /// Creates a school and returns its admin as a caller.
    pub async fn school(&self, slug: &str) -> Caller {
        let r = self
            .schools()
            .create_school(as_operator(pb::CreateSchoolRequest {
                name: format!("School {slug}"),
                slug: slug.into(),
                admin_email: format!("admin@{slug}.test"),
                admin_password: PASSWORD.into(),
                admin_full_name: "Ada Admin".into(),
                ..Default::default()
            }))
            .await
            .expect("create school")
            .into_inner();
        let admin = r.admin.unwrap();
        Caller {
            school_id: admin.school_id.parse().unwrap(),
            user_id: admin.id.parse().unwrap(),
            role: Role::Admin,
            student_id: None,
        }
    }

    pub async fn teacher(&self, admin: &Caller, email: &str) -> Caller {
        let u = self
            .users()
            .create_user(with_caller(
                admin,
                pb::CreateUserRequest {
                    email: email.into(),
                    password: PASSWORD.into(),
                    full_name: "Tess Teacher".into(),
                    role: common::Role::Teacher.into(),
                },
            ))
            .await
            .expect("create teacher")
            .into_inner();
        Caller {
            school_id: admin.school_id,
            user_id: u.id.parse().unwrap(),
            role: Role::Teacher,
            student_id: None,
        }
    }

    pub async fn create_student(
        &self,
        admin: &Caller,
        req: pb::CreateStudentRequest,
    ) -> pb::Student {
        self.students()
            .create_student(with_caller(admin, req))
            .await
            .expect("create student")
            .into_inner()
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.db.count(&format!("students.{table}")).await
    }

    pub fn courses(&self) -> CourseServiceClient<Svc> {
        CourseServiceClient::new(self.channel.clone())
    }
    pub fn enrolments(&self) -> EnrolmentServiceClient<Svc> {
        EnrolmentServiceClient::new(self.channel.clone())
    }
    pub fn attendance(&self) -> AttendanceServiceClient<Svc> {
        AttendanceServiceClient::new(self.channel.clone())
    }

    pub async fn create_course(
        &self,
        admin: &Caller,
        code: &str,
        term: &str,
        teacher: &Caller,
        capacity: i32,
    ) -> pb::Course {
        self.courses()
            .create_course(with_caller(
                admin,
                pb::CreateCourseRequest {
                    code: code.into(),
                    name: format!("Course {code}"),
                    term: term.into(),
                    teacher_id: teacher.user_id.to_string(),
                    capacity,
                },
            ))
            .await
            .expect("create course")
            .into_inner()
    }

    pub async fn enrol(&self, admin: &Caller, course: &str, student: &str) -> pb::Enrolment {
        self.enrolments()
            .enrol(with_caller(
                admin,
                pb::EnrolRequest {
                    course_id: course.into(),
                    student_id: student.into(),
                },
            ))
            .await
            .expect("enrol")
            .into_inner()
    }
}

pub fn student(admission_no: &str, given: &str, family: &str) -> pb::CreateStudentRequest {
    pb::CreateStudentRequest {
        admission_no: admission_no.into(),
        given_name: given.into(),
        family_name: family.into(),
        date_of_birth: Some(common::Date {
            year: 2014,
            month: 5,
            day: 17,
        }),
        grade_level: 5,
        section: "A".into(),
        status: 0,
        login: None,
    }
}

pub fn violations(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    let mut fields: Vec<String> = status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default();
    fields.sort();
    fields
}
