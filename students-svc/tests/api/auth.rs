use platform::caller::{Caller, Role};
use proto::students::v1 as pb;
use tonic::Code;

use crate::helpers::*;

fn login(slug: &str, email: &str, password: &str) -> pb::LoginRequest {
    pb::LoginRequest {
        school_slug: slug.into(),
        email: email.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn admin_logs_in_and_bad_credentials_are_indistinguishable() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let ok = app
        .auth()
        .login(login("north", "ADMIN@north.test", PASSWORD))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(ok.id, admin.user_id.to_string());
    assert_eq!(ok.role, proto::common::v1::Role::Admin as i32);

    for (slug, email, pw) in [
        ("north", "admin@north.test", "wrong password!"),
        ("north", "nobody@north.test", PASSWORD),
        ("south", "admin@north.test", PASSWORD),
        ("x", "not an email", ""),
    ] {
        let err = app.auth().login(login(slug, email, pw)).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{slug} {email}");
        assert_eq!(err.message(), "invalid school, e-mail or password");
    }
}

#[tokio::test]
async fn duplicate_slugs_and_emails_are_rejected_and_invalid_schools_write_nothing() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let dup = app
        .schools()
        .create_school(as_operator(pb::CreateSchoolRequest {
            name: "Other".into(),
            slug: "NORTH".into(),
            admin_email: "a@b.org".into(),
            admin_password: PASSWORD.into(),
            admin_full_name: "A".into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Code::AlreadyExists);

    let bad = app
        .schools()
        .create_school(as_operator(pb::CreateSchoolRequest {
            name: "".into(),
            slug: "a b".into(),
            admin_email: "nope".into(),
            admin_password: "short".into(),
            admin_full_name: "A".into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        violations(&bad),
        ["admin_email", "admin_password", "name", "slug"]
    );
    assert_eq!(app.count("schools").await, 1);

    app.teacher(&admin, "t@north.test").await;
    let again = app
        .users()
        .create_user(with_caller(
            &admin,
            pb::CreateUserRequest {
                email: "T@north.test".into(),
                password: PASSWORD.into(),
                full_name: "Twin".into(),
                role: proto::common::v1::Role::Teacher.into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    assert_eq!(app.count("users").await, 2);
}

#[tokio::test]
async fn only_admins_create_users_and_calls_without_a_caller_are_unauthenticated() {
    let app = spawn_app().await;
    let admin = app.school("north").await;
    let teacher = app.teacher(&admin, "t@north.test").await;
    let denied = app
        .users()
        .create_user(with_caller(
            &teacher,
            pb::CreateUserRequest {
                email: "x@north.test".into(),
                password: PASSWORD.into(),
                full_name: "X".into(),
                role: proto::common::v1::Role::Admin.into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let anonymous = app
        .students()
        .get_student(pb::GetStudentRequest {
            id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    let me = app
        .auth()
        .who_am_i(with_caller(&teacher, pb::WhoAmIRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.email, "t@north.test");

    // A token for a user of another school names no user here.
    let stranger = Caller {
        school_id: uuid::Uuid::now_v7(),
        ..teacher
    };
    let err = app
        .auth()
        .who_am_i(with_caller(&stranger, pb::WhoAmIRequest {}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(stranger.role, Role::Teacher);
}

#[tokio::test]
async fn an_account_is_locked_after_repeated_failures_whatever_the_caller() {
    // Three failures a second: short enough to see the lock end here.
    let app = spawn_app_with(|c| {
        c.login_max_failures = 3;
        c.login_lock_secs = 2;
    })
    .await;
    app.school("lock").await;
    let wrong = || login("lock", "admin@lock.test", "wrong password!");
    for _ in 0..3 {
        let err = app.auth().login(wrong()).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
    }
    // Locked: even the right password, with the time left to wait.
    let err = app
        .auth()
        .login(login("lock", "Admin@Lock.test", PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    let left = platform::status::retry_after(&err).expect("a retry delay");
    assert!(left.as_secs() >= 1 && left.as_secs() <= 2, "{left:?}");
    // An account that does not exist locks the same way (a lock says
    // nothing about whether it exists); another account is not affected.
    for _ in 0..3 {
        app.auth()
            .login(login("lock", "ghost@lock.test", "x"))
            .await
            .unwrap_err();
    }
    let err = app
        .auth()
        .login(login("lock", "ghost@lock.test", "x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    let other = app.school("open").await;
    let ok = app
        .auth()
        .login(login("open", "admin@open.test", PASSWORD))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.user.unwrap().id, other.user_id.to_string());
    // After the lock, the right password signs in and the count starts over.
    let user = platform::testing::eventually(
        "the lock to end",
        std::time::Duration::from_secs(10),
        || async {
            app.auth()
                .login(login("lock", "admin@lock.test", PASSWORD))
                .await
                .ok()
        },
    )
    .await;
    assert!(user.into_inner().user.is_some());
    let err = app.auth().login(wrong()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "counting from zero");
}
