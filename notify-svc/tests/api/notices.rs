//! Notices from real encoded events, delivered by e-mail to a real SMTP
//! server: invoice issued, payment receipt and published grades reach the
//! guardians who opted into e-mail, once whatever the redeliveries and
//! re-publishes; the daily overdue check (a scheduled job) reminds once per
//! invoice and step; a school's template override applies to that school
//! only; nothing crosses schools.

use chrono::{Days, Utc};
use notify_svc::config::Config;
use platform::{
    caller::{Caller, Role},
    testing::{
        eventually,
        redis::standalone_url,
        smtp::{Mail, SmtpServer},
        AssertCode, TestDatabase,
    },
};
use proto::events::v1::{self as ev, event::Payload};
use proto::notify::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{
    event, guardian_created, link, student_created, test_config, Bus, Prefs, TestApp, WAIT,
};

pub fn mail_config(db: &TestDatabase, bus: &Bus, server: &SmtpServer) -> Config {
    let mut c = test_config(db, bus);
    c.jobs.email.smtp_host = Some("127.0.0.1".into());
    c.jobs.email.smtp_port = Some(server.addr().port());
    c.jobs.email.smtp_security = notify_svc::email::SmtpSecurity::None;
    c.jobs.email.smtp_from = "Springfield <office@springfield.test>".into();
    c.jobs.jobs_poll_ms = 50;
    c.jobs.jobs_backoff_base_ms = 10;
    c.jobs.jobs_backoff_max_ms = 100;
    c
}

pub fn school_created(school: Uuid, name: &str, tz: &str) -> ev::Event {
    event(
        school,
        "school.created",
        Payload::SchoolCreated(ev::SchoolChanged {
            name: name.into(),
            slug: format!("s-{}", &school.simple().to_string()[..8]),
            time_zone: tz.into(),
            year_start_month: 9,
            year_start_day: 1,
            version: 1,
        }),
    )
}

fn invoice_issued(school: Uuid, invoice: Uuid, student: Uuid, due_on: &str) -> ev::Event {
    event(
        school,
        "invoice.issued",
        Payload::InvoiceIssued(ev::InvoiceChanged {
            invoice_id: invoice.to_string(),
            student_id: student.to_string(),
            currency: "EUR".into(),
            total: 15000,
            amount_paid: 0,
            amount_due: 15000,
            status: "issued".into(),
            issued_on: "2026-01-01".into(),
            due_on: due_on.into(),
            version: 2,
        }),
    )
}

pub fn payment(school: Uuid, payment: Uuid, invoice: Uuid, student: Uuid) -> ev::Event {
    event(
        school,
        "payment.recorded",
        Payload::PaymentRecorded(ev::PaymentRecorded {
            payment_id: payment.to_string(),
            invoice_id: invoice.to_string(),
            student_id: student.to_string(),
            amount: 10000,
            currency: "EUR".into(),
            method: "bank_transfer".into(),
            reference: "R-1042".into(),
            invoice_total: 15000,
            invoice_amount_paid: 10000,
            invoice_amount_due: 5000,
            invoice_status: "partially_paid".into(),
            invoice_version: 3,
            recorded_at: None,
        }),
    )
}

fn grades(school: Uuid, assessment: Uuid, student: Uuid) -> ev::Event {
    event(
        school,
        "grades.published",
        Payload::GradesPublished(ev::GradesPublished {
            course_id: Uuid::now_v7().to_string(),
            assessment_id: assessment.to_string(),
            title: "Fractions quiz".into(),
            max_score: 2000,
            scores: vec![ev::StudentScore {
                student_id: student.to_string(),
                score: 1850,
                revision: 1,
            }],
            ..Default::default()
        }),
    )
}

pub fn mails_to(server: &SmtpServer, to: &str) -> Vec<Mail> {
    server
        .mails()
        .into_iter()
        .filter(|m| m.to == [to])
        .collect()
}

/// Waits until no job is queued or running: every delivery has ended.
pub async fn settled(app: &TestApp) {
    eventually("every delivery job ended", WAIT, || async {
        app.count(
            "SELECT count(*) FROM notify.jobs WHERE status IN ('queued', 'running') \
               AND kind <> 'invoice_reminders'",
        )
        .await
            == 0
    })
    .await;
}

struct Family {
    student: Uuid,
    mailer: Uuid,
    silent: Uuid,
}

/// A student with two guardians: one opted into e-mail (`mail`), one with
/// an address who did not opt in.
fn family(school: Uuid, mail: &'static str, other: &'static str) -> (Family, Vec<ev::Event>) {
    let f = Family {
        student: Uuid::now_v7(),
        mailer: Uuid::now_v7(),
        silent: Uuid::now_v7(),
    };
    let p_mail = Prefs {
        email: mail,
        mail: true,
        ..Prefs::default()
    };
    let p_silent = Prefs {
        email: other,
        mail: false,
        ..Prefs::default()
    };
    let events = vec![
        student_created(school, f.student, "Lisa", "Simpson"),
        guardian_created(school, f.mailer, "Marge", &p_mail),
        guardian_created(school, f.silent, "Homer", &p_silent),
        link(school, f.mailer, f.student, &p_mail, true),
        link(school, f.silent, f.student, &p_silent, true),
    ];
    (f, events)
}

#[tokio::test]
async fn invoice_receipt_and_grade_notices_are_mailed_once_to_opted_in_guardians() {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(standalone_url()).await;
    let server = SmtpServer::start().await.unwrap();
    let app = TestApp::spawn(db.clone(), &mail_config(&db, &bus, &server)).await;
    let (school, other) = (Uuid::now_v7(), Uuid::now_v7());
    let (f, mut events) = family(school, "marge@home.test", "homer@home.test");
    let (_, other_events) = family(other, "edna@home.test", "ned@home.test");
    events.insert(
        0,
        school_created(school, "Springfield Elementary", "Europe/London"),
    );
    events.extend(other_events);
    let (invoice, pay, assessment) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let tomorrow = (Utc::now().date_naive() + Days::new(1)).to_string();
    events.extend([
        invoice_issued(school, invoice, f.student, &tomorrow),
        payment(school, pay, invoice, f.student),
        grades(school, assessment, f.student),
        // Redelivered as new events (a re-publish, a retried relay): no
        // second notice.
        payment(school, pay, invoice, f.student),
        grades(school, assessment, f.student),
        // Another school's events naming this school's student reach only
        // that school's guardians (none linked to this student there).
        payment(other, Uuid::now_v7(), invoice, f.student),
    ]);
    for e in &events {
        bus.publish(e).await;
    }
    app.wait_processed(events.len() as i64).await;
    eventually("three mails to marge", WAIT, || async {
        mails_to(&server, "marge@home.test").len() >= 3
    })
    .await;
    settled(&app).await;

    let mut mails = mails_to(&server, "marge@home.test");
    assert_eq!(mails.len(), 3, "one mail per notice: {mails:?}");
    mails.sort_by_key(|m| m.header("Subject").unwrap());
    let subjects: Vec<String> = mails.iter().map(|m| m.header("Subject").unwrap()).collect();
    assert_eq!(
        subjects,
        [
            format!("Invoice for Lisa Simpson: 150.00 EUR due {tomorrow}"),
            "New grade for Lisa Simpson: Fractions quiz".to_owned(),
            "Receipt: 100.00 EUR received for Lisa Simpson".to_owned(),
        ]
    );
    assert_eq!(
        mails[2].body(),
        "Dear Marge Parent,\n\nWe received 100.00 EUR by bank transfer (reference R-1042) for \
         Lisa Simpson. Balance left: 50.00 EUR.\n\nSpringfield Elementary"
    );
    assert_eq!(
        mails[1].body(),
        "Dear Marge Parent,\n\nLisa Simpson scored 18.5 out of 20 in Fractions quiz.\n\n\
         Springfield Elementary"
    );
    assert_eq!(mails[0].from, "office@springfield.test");
    assert!(
        mails_to(&server, "homer@home.test").is_empty(),
        "homer did not opt in"
    );
    // Homer still has the notices in his inbox.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM notify.notifications WHERE guardian_id = '{}'",
            f.silent
        ))
        .await,
        3
    );
    assert!(
        mails_to(&server, "edna@home.test").is_empty(),
        "nothing crosses schools"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM notify.notifications WHERE school_id = '{other}'"
        ))
        .await,
        0
    );
    app.stop().await;
}

/// Runs every reminder check that is scheduled, as if its time had come.
async fn run_due_checks(app: &TestApp) -> i64 {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    c.execute(
        "UPDATE notify.jobs SET run_at = now() WHERE kind = 'invoice_reminders' \
           AND status = 'queued'",
        &[],
    )
    .await
    .unwrap() as i64
}

#[tokio::test]
async fn overdue_invoices_are_reminded_once_per_step_in_the_schools_time_zone() {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(standalone_url()).await;
    let server = SmtpServer::start().await.unwrap();
    let app = TestApp::spawn(db.clone(), &mail_config(&db, &bus, &server)).await;
    let school = Uuid::now_v7();
    let tz: chrono_tz::Tz = "Pacific/Auckland".parse().unwrap();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let (f, mut events) = family(school, "marge@home.test", "homer@home.test");
    events.insert(
        0,
        school_created(school, "Springfield Elementary", "Pacific/Auckland"),
    );
    let (late, fresh) = (Uuid::now_v7(), Uuid::now_v7());
    // Seven days overdue in the school's zone; the other not due yet.
    let seven = (today - Days::new(7)).to_string();
    let next_week = (today + Days::new(7)).to_string();
    events.push(invoice_issued(school, late, f.student, &seven));
    events.push(invoice_issued(school, fresh, f.student, &next_week));
    for e in &events {
        bus.publish(e).await;
    }
    app.wait_processed(events.len() as i64).await;
    eventually("both invoice mails", WAIT, || async {
        mails_to(&server, "marge@home.test").len() >= 2
    })
    .await;
    // The school's check for its local today is scheduled, once.
    let key = format!("reminders:{today}");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM notify.jobs WHERE school_id = '{school}' AND dedupe_key = '{key}'"
        ))
        .await,
        1
    );

    assert_eq!(run_due_checks(&app).await, 1);
    eventually("the reminder mail", WAIT, || async {
        mails_to(&server, "marge@home.test").len() >= 3
    })
    .await;
    let reminder = mails_to(&server, "marge@home.test")
        .into_iter()
        .find(|m| m.header("Subject").unwrap().starts_with("Overdue"))
        .expect("an overdue mail");
    assert_eq!(
        reminder.header("Subject").unwrap(),
        "Overdue: 150.00 EUR for Lisa Simpson"
    );
    // Today's check may already have run (when the school was created, if
    // its check time had passed), leaving the reminder to tomorrow's: 7 or
    // 8 days overdue, step 7 either way.
    let body = reminder.body();
    assert!(
        body.contains(&format!("was due on {seven} and is 7 days overdue"))
            || body.contains(&format!("was due on {seven} and is 8 days overdue")),
        "{body}"
    );
    // Each check schedules the next day's; run the next one too: one more
    // day overdue is still step 7, so nobody is told again.
    let succeeded = "SELECT count(*) FROM notify.jobs WHERE kind = 'invoice_reminders' \
                     AND status = 'succeeded'";
    let next_queued = "SELECT count(*) FROM notify.jobs WHERE kind = 'invoice_reminders' \
                       AND status = 'queued' AND run_at > now()";
    eventually("the next check scheduled", WAIT, || async {
        app.count(next_queued).await == 1
    })
    .await;
    let ran = app.count(succeeded).await;
    assert_eq!(run_due_checks(&app).await, 1);
    eventually(
        "the next check ran and scheduled the one after",
        WAIT,
        || async { app.count(succeeded).await == ran + 1 && app.count(next_queued).await == 1 },
    )
    .await;
    settled(&app).await;
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM notify.notifications WHERE kind = 'invoice_overdue' \
               AND guardian_id = '{}' AND dedupe_key = 'invoice_overdue:{late}:7'",
            f.mailer
        ))
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM notify.notifications WHERE kind = 'invoice_overdue'")
            .await,
        2,
        "one per guardian, step and invoice (the fresh one is not due)"
    );
    assert_eq!(mails_to(&server, "marge@home.test").len(), 3);
    app.stop().await;
}

pub fn with_caller<T>(caller: &Caller, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    caller.write(req.metadata_mut());
    req
}

pub fn caller(school: Uuid, role: Role) -> Caller {
    Caller {
        school_id: school,
        user_id: Uuid::now_v7(),
        role,
        student_id: None,
    }
}

#[tokio::test]
async fn template_overrides_are_validated_and_apply_to_their_school_only() {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(standalone_url()).await;
    let server = SmtpServer::start().await.unwrap();
    let app = TestApp::spawn(db.clone(), &mail_config(&db, &bus, &server)).await;
    let (school, other) = (Uuid::now_v7(), Uuid::now_v7());
    let channel = crate::helpers::signed(app.addr);
    let mut templates =
        pb::notification_template_service_client::NotificationTemplateServiceClient::new(channel);
    let admin = caller(school, Role::Admin);
    let put = |subject: &str, body: &str| pb::PutNotificationTemplateRequest {
        kind: "payment_receipt".into(),
        lang: "en".into(),
        subject: subject.into(),
        body: body.into(),
    };

    // The built-in template until the school saves its own.
    let builtin = templates
        .get_notification_template(with_caller(
            &admin,
            pb::GetNotificationTemplateRequest {
                kind: "payment_receipt".into(),
                lang: "en".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!builtin.custom);
    assert!(builtin.variables.contains(&"balance".to_owned()));
    assert!(builtin.sample_body.contains("Lisa Simpson"));

    // Unknown variables, syntax errors and bad keys are rejected, naming why.
    let e = templates
        .put_notification_template(with_caller(&admin, put("Paid {{ amount }}", "{{ nope }}")))
        .await
        .assert_code(Code::InvalidArgument);
    assert!(
        e.message().contains("body: undefined value"),
        "{}",
        e.message()
    );
    let e = templates
        .put_notification_template(with_caller(&admin, put("Paid {% if %}", "x")))
        .await
        .assert_code(Code::InvalidArgument);
    assert!(
        e.message().contains("subject: syntax error"),
        "{}",
        e.message()
    );
    let mut bad_kind = put("a", "b");
    bad_kind.kind = "absence".into();
    bad_kind.lang = "English".into();
    let e = templates
        .put_notification_template(with_caller(&admin, bad_kind))
        .await
        .assert_code(Code::InvalidArgument);
    assert!(e.message().contains("kind") && e.message().contains("lang"));
    for role in [Role::Teacher, Role::Guardian, Role::Student] {
        templates
            .put_notification_template(with_caller(&caller(school, role), put("a", "b")))
            .await
            .assert_code(Code::PermissionDenied);
    }
    assert_eq!(
        app.count("SELECT count(*) FROM notify.notification_templates")
            .await,
        0,
        "nothing saved"
    );

    let saved = templates
        .put_notification_template(with_caller(
            &admin,
            put(
                "Paid: {{ amount }} {{ currency }}",
                "Thanks {{ guardian_name }}, {{ balance }} left.",
            ),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(saved.custom && saved.updated_at.is_some());
    assert_eq!(saved.sample_subject, "Paid: 100.00 EUR");

    let (f, mut events) = family(school, "marge@home.test", "homer@home.test");
    let (fo, other_events) = family(other, "edna@home.test", "ned@home.test");
    events.extend(other_events);
    let (inv, inv_other) = (Uuid::now_v7(), Uuid::now_v7());
    events.push(payment(school, Uuid::now_v7(), inv, f.student));
    events.push(payment(other, Uuid::now_v7(), inv_other, fo.student));
    for e in &events {
        bus.publish(e).await;
    }
    app.wait_processed(events.len() as i64).await;
    eventually("both receipts mailed", WAIT, || async {
        mails_to(&server, "marge@home.test").len() == 1
            && mails_to(&server, "edna@home.test").len() == 1
    })
    .await;
    let own = &mails_to(&server, "marge@home.test")[0];
    assert_eq!(own.header("Subject").unwrap(), "Paid: 100.00 EUR");
    assert_eq!(own.body(), "Thanks Marge Parent, 50.00 left.");
    let theirs = &mails_to(&server, "edna@home.test")[0];
    assert_eq!(
        theirs.header("Subject").unwrap(),
        "Receipt: 100.00 EUR received for Lisa Simpson",
        "the other school keeps the built-in template"
    );
    app.stop().await;
}

fn grades_with_login(
    school: Uuid,
    assessment: Uuid,
    student: Uuid,
    login: Option<Uuid>,
) -> ev::Event {
    let mut e = grades(school, assessment, student);
    if let (Some(Payload::GradesPublished(g)), Some(user)) = (e.payload.as_mut(), login) {
        g.student_user_ids
            .insert(student.to_string(), user.to_string());
    }
    e
}

#[tokio::test]
async fn a_published_grade_tells_the_student_once_in_their_inbox_and_by_push() {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(standalone_url()).await;
    let server = SmtpServer::start().await.unwrap();
    let app = TestApp::spawn(db.clone(), &mail_config(&db, &bus, &server)).await;
    let school = Uuid::now_v7();
    let (f, mut events) = family(school, "marge@home.test", "homer@home.test");
    events.insert(
        0,
        school_created(school, "Springfield Elementary", "Europe/London"),
    );
    // Bart has a login but no guardian here; Maggie has neither.
    let (bart, bart_login, maggie) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let lisa_login = Uuid::now_v7();
    events.push(student_created(school, bart, "Bart", "Simpson"));
    events.push(student_created(school, maggie, "Maggie", "Simpson"));
    let assessment = Uuid::now_v7();
    let mut published = grades_with_login(school, assessment, f.student, Some(lisa_login));
    if let Some(Payload::GradesPublished(g)) = published.payload.as_mut() {
        g.scores.push(ev::StudentScore {
            student_id: bart.to_string(),
            score: 1200,
            revision: 1,
        });
        g.scores.push(ev::StudentScore {
            student_id: maggie.to_string(),
            score: 2000,
            revision: 1,
        });
        g.student_user_ids
            .insert(bart.to_string(), bart_login.to_string());
    }
    // The same publish redelivered as a new event, and a second one of the
    // same assessment (a re-publish): nobody is told twice.
    let mut again = published.clone();
    again.event_id = Uuid::now_v7().to_string();
    events.extend([
        published.clone(),
        again,
        grades_with_login(school, assessment, f.student, Some(lisa_login)),
    ]);
    for e in &events {
        bus.publish(e).await;
    }
    app.wait_processed(events.len() as i64).await;
    settled(&app).await;

    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let rows = c
        .query(
            "SELECT recipient_user_id, title, body, channels FROM notify.notifications \
             WHERE school_id = $1 AND guardian_id IS NULL ORDER BY title, body",
            &[&school],
        )
        .await
        .unwrap();
    let told: Vec<(Uuid, String, String, Vec<String>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        told,
        [
            (
                bart_login,
                "New grade: Fractions quiz".to_owned(),
                "Dear Bart Simpson,\n\nYou scored 12 out of 20 in Fractions quiz.\n\n\
                 Springfield Elementary"
                    .to_owned(),
                vec!["push".to_owned()],
            ),
            (
                lisa_login,
                "New grade: Fractions quiz".to_owned(),
                "Dear Lisa Simpson,\n\nYou scored 18.5 out of 20 in Fractions quiz.\n\n\
                 Springfield Elementary"
                    .to_owned(),
                vec!["push".to_owned()],
            ),
        ],
        "each student with a login once, Maggie (no login) not at all"
    );
    // One push each, delivered.
    let pushes = c
        .query(
            "SELECT payload->>'user_id', status FROM notify.jobs \
             WHERE school_id = $1 AND kind = 'push' AND payload->>'user_id' = ANY($2) \
             ORDER BY 1",
            &[
                &school,
                &vec![bart_login.to_string(), lisa_login.to_string()],
            ],
        )
        .await
        .unwrap();
    let mut expected = vec![bart_login.to_string(), lisa_login.to_string()];
    expected.sort();
    assert_eq!(
        pushes
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
            .collect::<Vec<_>>(),
        expected
            .into_iter()
            .map(|u| (u, "succeeded".to_owned()))
            .collect::<Vec<_>>()
    );
    // The student reads it in their own inbox.
    let channel = crate::helpers::signed(app.addr);
    let mut req = tonic::Request::new(pb::ListMyNotificationsRequest::default());
    Caller {
        school_id: school,
        user_id: lisa_login,
        role: Role::Student,
        student_id: Some(f.student),
    }
    .write(req.metadata_mut());
    let inbox = pb::notification_service_client::NotificationServiceClient::new(channel)
        .list_my_notifications(req)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(inbox.notifications.len(), 1);
    assert_eq!(inbox.notifications[0].title, "New grade: Fractions quiz");
    // The guardian's notice is unchanged: one mail to Marge.
    assert_eq!(mails_to(&server, "marge@home.test").len(), 1);
    app.stop().await;
}
