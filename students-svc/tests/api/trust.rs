//! Trust between services (platform::trust): a direct caller that reached
//! the port without the service key is believed about nothing, whatever
//! metadata it writes; creating a school needs the operator's credential.

use platform::caller::{Caller, Role};
use platform::trust::{ServiceKey, Signed};
use proto::students::v1 as pb;
use proto::students::v1::{
    school_service_client::SchoolServiceClient, student_service_client::StudentServiceClient,
};
use tonic::Code;

use crate::helpers::*;

async fn student_count(app: &TestApp) -> i64 {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    c.query_one("SELECT count(*) FROM students.students", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn forged_caller_metadata_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.school("trusty").await;
    let before = student_count(&app).await;

    // The gateway's metadata, written by a process without the key: with no
    // assertion, then with one made under another key.
    let forgers = [7u8, 8].map(|b| {
        StudentServiceClient::new(Signed::new(
            app.raw.clone(),
            ServiceKey::new(&[b; 32]).unwrap(),
        ))
    });
    let mut unsigned = StudentServiceClient::new(app.raw.clone());
    let err = unsigned
        .list_students(with_caller(&admin, pb::ListStudentsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let err = unsigned
        .create_student(with_caller(&admin, student("F-1", "Fay", "Forger")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    for mut forger in forgers {
        let err = forger
            .create_student(with_caller(&admin, student("F-2", "Fay", "Forger")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
        // No hint of why: the message is the same for every failure.
        assert_eq!(err.message(), "the caller is not vouched for");
    }
    assert_eq!(student_count(&app).await, before, "nothing written");

    // A vouched-for caller of the same shape is served.
    app.students()
        .create_student(with_caller(&admin, student("F-3", "Vera", "Vouched")))
        .await
        .expect("a signed call");
    assert_eq!(student_count(&app).await, before + 1);
}

#[tokio::test]
async fn an_assertion_vouches_for_one_method_and_one_caller() {
    let app = spawn_app().await;
    let admin = app.school("replay").await;
    let other = app.school("victim").await;
    // Capture what the signing channel sends for a list call of `admin`.
    let key: ServiceKey = platform::trust::TEST_KEY.parse().unwrap();
    let mut headers = {
        let mut md = tonic::metadata::MetadataMap::new();
        admin.write(&mut md);
        md.into_headers()
    };
    let path = "/school.students.v1.StudentService/ListStudents";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let assertion = key.assertion(path, &headers, now).unwrap();
    headers.insert(platform::trust::ASSERTION, assertion.parse().unwrap());
    let replay = |caller: &Caller| {
        let mut req = with_caller(caller, pb::ListStudentsRequest::default());
        req.metadata_mut()
            .insert(platform::trust::ASSERTION, assertion.parse().unwrap());
        req
    };
    let mut raw = StudentServiceClient::new(app.raw.clone());
    // As captured: served (the assertion is what the gateway would send).
    raw.list_students(replay(&admin))
        .await
        .expect("the captured call");
    // Another school's caller under it, or another method: refused.
    let err = raw.list_students(replay(&other)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let mut as_student = admin;
    as_student.role = Role::Student;
    as_student.student_id = Some(uuid::Uuid::now_v7());
    let err = raw.list_students(replay(&as_student)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let mut req = with_caller(&admin, student("R-1", "Rita", "Replay"));
    req.metadata_mut()
        .insert(platform::trust::ASSERTION, assertion.parse().unwrap());
    let err = raw.create_student(req).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn only_the_operator_creates_a_school() {
    let app = spawn_app().await;
    let admin = app.school("first").await;
    let new = || pb::CreateSchoolRequest {
        name: "Second".into(),
        slug: "second".into(),
        admin_email: "admin@second.test".into(),
        admin_password: PASSWORD.into(),
        admin_full_name: "Sam Second".into(),
        ..Default::default()
    };
    // No credential at all; a school's admin (vouched for); the operator's
    // mark without the key's assertion.
    let mut raw = SchoolServiceClient::new(app.raw.clone());
    let err = raw.create_school(new()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = app
        .schools()
        .create_school(with_caller(&admin, new()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = raw.create_school(as_operator(new())).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let schools: i64 = c
        .query_one("SELECT count(*) FROM students.schools", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(schools, 1, "nothing written");
    // The operator, vouched for by the key: created.
    app.schools()
        .create_school(as_operator(new()))
        .await
        .expect("the operator creates a school");
}
