//! Announcements over gRPC against real Postgres, Redis and a real SMTP
//! server: 2,000 guardians each get one e-mail (one with two children in
//! the audience too) from two replicas sharing the work, SMS with no
//! provider end failed and push is published, and the progress counts
//! reach them; audiences come from the projection of real encoded events
//! (grade levels, courses, enrolments, withdrawals); teachers send to their
//! own courses only; an empty audience is refused; the daily quota answers
//! RESOURCE_EXHAUSTED with its delay; another school's announcement is
//! NOT_FOUND; a batch run twice tells nobody twice. Also: a notice is
//! worded in the guardian's language where the school has a template in it.

use std::{collections::HashMap, time::Duration};

use platform::{
    caller::{Caller, Role},
    testing::{eventually, redis::standalone_url, smtp::SmtpServer, AssertCode},
};
use proto::events::v1::{self as ev, event::Payload};
use proto::notify::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{event, guardian_created, link, Bus, Prefs, TestApp, WAIT};
use crate::notices::{caller, mail_config, mails_to, payment, school_created, with_caller};

type Client = pb::announcement_service_client::AnnouncementServiceClient<crate::helpers::Svc>;

fn client(app: &TestApp) -> Client {
    Client::new(crate::helpers::signed(app.addr))
}

fn create(
    kind: &str,
    grade_levels: Vec<i32>,
    courses: &[Uuid],
    guardians: &[Uuid],
) -> pb::CreateAnnouncementRequest {
    pb::CreateAnnouncementRequest {
        title: "Sports day on Friday".into(),
        body: "Dear families,\n\nBring a hat and water.\n".into(),
        audience: Some(pb::AnnouncementAudience {
            kind: kind.into(),
            grade_levels,
            course_ids: courses.iter().map(Uuid::to_string).collect(),
            guardian_ids: guardians.iter().map(Uuid::to_string).collect(),
        }),
    }
}

async fn get(c: &mut Client, who: &Caller, id: &str) -> pb::Announcement {
    c.get_announcement(with_caller(
        who,
        pb::GetAnnouncementRequest { id: id.into() },
    ))
    .await
    .unwrap()
    .into_inner()
}

fn channel<'a>(a: &'a pb::Announcement, name: &str) -> &'a pb::ChannelProgress {
    a.channels.iter().find(|c| c.channel == name).unwrap()
}

/// Guardians told of announcement `id`, from their inbox rows.
async fn told(app: &TestApp, id: &str) -> Vec<Uuid> {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let mut out: Vec<Uuid> = c
        .query(
            "SELECT guardian_id FROM notify.notifications WHERE kind = 'announcement' \
               AND source_event_id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    out.sort();
    out
}

/// `n` guardians of `n` current grade-5 students written straight into the
/// projection (what 3 × `n` events would leave), guardian `i` the parent of
/// student `i`: the first ten opted into SMS only, every hundredth into
/// e-mail and push (with a portal login), the others into e-mail.
async fn families(app: &TestApp, school: Uuid, n: usize) -> (Vec<Uuid>, Vec<Uuid>) {
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let guardians: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    let students: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    c.execute(
        "INSERT INTO notify.students (school_id, student_id, given_name, family_name, version, \
           grade_level, active) SELECT $1, s, 'Kid', 'No' || i, 1, 5, true \
         FROM unnest($2::uuid[]) WITH ORDINALITY AS t(s, i)",
        &[&school, &students],
    )
    .await
    .unwrap();
    c.execute(
        "INSERT INTO notify.guardians (school_id, guardian_id, given_name, family_name, phone, \
           email, notify_sms, notify_email, notify_push, user_id, version) \
         SELECT $1, g, 'Parent', 'No' || i, \
           CASE WHEN i <= 10 THEN '+447700900' || lpad(i::text, 3, '0') END, \
           'g' || i || '@home.test', i <= 10, i > 10, i % 100 = 0, \
           CASE WHEN i % 100 = 0 THEN gen_random_uuid() END, 1 \
         FROM unnest($2::uuid[]) WITH ORDINALITY AS t(g, i)",
        &[&school, &guardians],
    )
    .await
    .unwrap();
    c.execute(
        "INSERT INTO notify.guardian_students (school_id, student_id, guardian_id, relationship, \
           is_primary, version, linked) \
         SELECT $1, s, g, 'mother', true, 1, true FROM unnest($2::uuid[], $3::uuid[]) AS t(s, g)",
        &[&school, &students, &guardians],
    )
    .await
    .unwrap();
    (guardians, students)
}

#[tokio::test]
async fn an_announcement_to_2000_guardians_reaches_each_once_on_their_channels() {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(standalone_url()).await;
    let server = SmtpServer::start().await.unwrap();
    let mut config = mail_config(&db, &bus, &server);
    config.jobs.jobs_workers = 4;
    let app = TestApp::spawn(db.clone(), &config).await;
    // A second replica on the same database shares the fan-out and the
    // deliveries: still one mail per guardian.
    config.consumer_enabled = false;
    let replica = TestApp::spawn(db.clone(), &config).await;
    let (school, other) = (Uuid::now_v7(), Uuid::now_v7());
    const N: usize = 2000;
    let (guardians, students) = families(&app, school, N).await;
    let _ = families(&app, other, 5).await;
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    // The first guardian also has the second student as a child: two
    // children in the audience, told once.
    c.execute(
        "INSERT INTO notify.guardian_students (school_id, student_id, guardian_id, relationship, \
           is_primary, version, linked) VALUES ($1, $2, $3, 'father', false, 1, true)",
        &[&school, &students[1], &guardians[0]],
    )
    .await
    .unwrap();
    // A guardian whose only child has left is not told.
    let (left, leaver) = (Uuid::now_v7(), Uuid::now_v7());
    c.batch_execute(&format!(
        "INSERT INTO notify.students (school_id, student_id, given_name, family_name, version, \
           grade_level, active) VALUES ('{school}', '{leaver}', 'Gone', 'Away', 3, 5, false); \
         INSERT INTO notify.guardians (school_id, guardian_id, email, notify_email, version) \
           VALUES ('{school}', '{left}', 'left@home.test', true, 1); \
         INSERT INTO notify.guardian_students (school_id, student_id, guardian_id, \
           relationship, is_primary, version, linked) \
           VALUES ('{school}', '{leaver}', '{left}', 'mother', true, 1, true);"
    ))
    .await
    .unwrap();

    let mut c = client(&app);
    let admin = caller(school, Role::Admin);
    let started = std::time::Instant::now();
    let created = c
        .create_announcement(with_caller(&admin, create("school", vec![], &[], &[])))
        .await
        .unwrap()
        .into_inner();
    let answered = started.elapsed();
    assert_eq!(created.status, "queued", "answered before the fan-out");
    assert_eq!(created.recipients, 0);
    assert!(answered < Duration::from_secs(5), "{answered:?}");

    let done = eventually("every delivery ended", Duration::from_secs(180), || {
        let (mut c, admin, id) = (c.clone(), admin, created.id.clone());
        async move {
            let a = get(&mut c, &admin, &id).await;
            (a.status == "done").then_some(a)
        }
    })
    .await;
    assert_eq!(done.recipients, N as u32, "each guardian once");
    assert!(done.fanned_out_at.is_some());
    let (sms, email, push) = (
        channel(&done, "sms"),
        channel(&done, "email"),
        channel(&done, "push"),
    );
    assert_eq!((email.queued, email.sent, email.failed), (0, 1990, 0));
    assert_eq!(
        (sms.queued, sms.sent, sms.failed),
        (0, 0, 10),
        "no SMS provider: given up"
    );
    assert_eq!((push.queued, push.sent, push.failed), (0, 20, 0));

    // At the SMTP server: one mail per guardian who opted in, none twice.
    let mails = server.mails();
    let mut per_address: HashMap<String, usize> = HashMap::new();
    for m in &mails {
        assert_eq!(m.to.len(), 1);
        *per_address.entry(m.to[0].clone()).or_default() += 1;
    }
    assert_eq!(mails.len(), 1990);
    assert_eq!(per_address.len(), 1990);
    assert_eq!(per_address.get("g11@home.test"), Some(&1));
    let first = mails_to(&server, "g2000@home.test");
    assert_eq!(
        first[0].header("Subject").as_deref(),
        Some("Sports day on Friday")
    );
    assert_eq!(first[0].body(), "Dear families,\n\nBring a hat and water.");
    assert!(mails_to(&server, "left@home.test").is_empty());

    let reached = told(&app, &created.id).await;
    assert_eq!(reached.len(), N);
    let mut expected = guardians.clone();
    expected.sort();
    assert_eq!(reached, expected, "the school's guardians, each once");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM notify.notifications WHERE school_id = '{other}'"
        ))
        .await,
        0,
        "nothing crosses schools"
    );
    // The school's list shows the same progress.
    let listed = c
        .list_announcements(with_caller(
            &admin,
            pb::ListAnnouncementsRequest { page: None },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.announcements, [done]);
    replica.stop().await;
    app.stop().await;
}

fn student(school: Uuid, id: Uuid, grade: i32, archived: bool) -> ev::Event {
    let s = ev::StudentChanged {
        student_id: id.to_string(),
        admission_no: format!("A-{}", &id.simple().to_string()[..8]),
        given_name: "Kid".into(),
        family_name: "Okafor".into(),
        grade_level: grade,
        section: "A".into(),
        status: "active".into(),
        version: if archived { 2 } else { 1 },
        archived,
    };
    if archived {
        event(school, "student.archived", Payload::StudentArchived(s))
    } else {
        event(school, "student.created", Payload::StudentCreated(s))
    }
}

fn course(school: Uuid, id: Uuid, teacher: Uuid) -> ev::Event {
    event(
        school,
        "course.created",
        Payload::CourseCreated(ev::CourseChanged {
            course_id: id.to_string(),
            code: format!("C-{}", &id.simple().to_string()[..6]),
            name: "Maths".into(),
            term: "2027-T1".into(),
            teacher_id: teacher.to_string(),
            capacity: 30,
            version: 1,
        }),
    )
}

fn enrolment(school: Uuid, id: Uuid, course: Uuid, student: Uuid, withdrawn: bool) -> ev::Event {
    let e = ev::EnrolmentChanged {
        enrolment_id: id.to_string(),
        course_id: course.to_string(),
        student_id: student.to_string(),
        withdrawn,
        version: if withdrawn { 2 } else { 1 },
    };
    if withdrawn {
        event(
            school,
            "enrolment.withdrawn",
            Payload::EnrolmentWithdrawn(e),
        )
    } else {
        event(school, "enrolment.created", Payload::EnrolmentCreated(e))
    }
}

fn teacher(school: Uuid, id: Uuid) -> Caller {
    Caller {
        school_id: school,
        user_id: id,
        role: Role::Teacher,
        student_id: None,
    }
}

#[tokio::test]
async fn audiences_permissions_quota_and_tenancy() {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(standalone_url()).await;
    let server = SmtpServer::start().await.unwrap();
    let mut config = mail_config(&db, &bus, &server);
    config.announcements.announcements_per_day = 4;
    let app = TestApp::spawn(db.clone(), &config).await;
    let (school, other) = (Uuid::now_v7(), Uuid::now_v7());
    let (ada, ben, cy, dee) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let (mum, dad, gran, lone) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let (maths, art, theirs) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (t_maths, t_art) = (Uuid::now_v7(), Uuid::now_v7());
    let mail = |addr: &'static str| Prefs {
        email: addr,
        mail: true,
        ..Prefs::default()
    };
    let (p_mum, p_dad, p_gran, p_lone) = (
        mail("mum@home.test"),
        mail("dad@home.test"),
        mail("gran@home.test"),
        mail("lone@home.test"),
    );
    // Mum: Ada (grade 3) and Ben (grade 4), both in maths. Dad: Ben. Gran:
    // Cy (grade 3), enrolled in maths then withdrawn, in art. Dee (grade 3)
    // has left (archived). Lone has no child.
    let events = vec![
        school_created(school, "Springfield Elementary", "Europe/London"),
        student(school, ada, 3, false),
        student(school, ben, 4, false),
        student(school, cy, 3, false),
        student(school, dee, 3, false),
        student(school, dee, 3, true),
        guardian_created(school, mum, "Mum", &p_mum),
        guardian_created(school, dad, "Dad", &p_dad),
        guardian_created(school, gran, "Gran", &p_gran),
        guardian_created(school, lone, "Lone", &p_lone),
        link(school, mum, ada, &p_mum, true),
        link(school, mum, ben, &p_mum, true),
        link(school, dad, ben, &p_dad, true),
        link(school, gran, cy, &p_gran, true),
        link(school, lone, dee, &p_lone, true),
        course(school, maths, t_maths),
        course(school, art, t_art),
        course(other, theirs, t_maths),
        enrolment(school, Uuid::now_v7(), maths, ada, false),
        enrolment(school, Uuid::now_v7(), maths, ben, false),
        enrolment(school, Uuid::now_v7(), art, cy, false),
        enrolment(school, Uuid::now_v7(), maths, cy, false),
    ];
    let withdrawal = {
        let Some(Payload::EnrolmentCreated(e)) = &events[21].payload else {
            unreachable!()
        };
        let id: Uuid = e.enrolment_id.parse().unwrap();
        enrolment(school, id, maths, cy, true)
    };
    for e in events.iter().chain([&withdrawal]) {
        bus.publish(e).await;
    }
    app.wait_processed(events.len() as i64 + 1).await;

    let mut c = client(&app);
    let admin = caller(school, Role::Admin);
    let send = |who: &Caller, req: pb::CreateAnnouncementRequest| {
        let (mut c, who) = (c.clone(), *who);
        async move { c.create_announcement(with_caller(&who, req)).await }
    };

    // Refused before anything is counted or written.
    let none = send(&admin, create("grade_levels", vec![12], &[], &[]))
        .await
        .assert_code(Code::InvalidArgument);
    assert!(none.message().contains("audience"), "{}", none.message());
    let unknown = send(
        &admin,
        create("guardians", vec![], &[], &[mum, mum, Uuid::now_v7()]),
    )
    .await
    .assert_code(Code::InvalidArgument);
    // Named at the position sent, duplicates counted.
    assert!(
        unknown.message().contains("audience.guardian_ids[2]"),
        "{}",
        unknown.message()
    );
    let foreign = send(&admin, create("courses", vec![], &[theirs], &[]))
        .await
        .assert_code(Code::InvalidArgument);
    assert!(foreign.message().contains("audience.course_ids[0]"));
    let long = pb::CreateAnnouncementRequest {
        body: "x".repeat(platform::limits::ANNOUNCEMENT_BODY_MAX + 1),
        ..create("school", vec![], &[], &[])
    };
    let e = send(&admin, long).await.assert_code(Code::InvalidArgument);
    assert!(e.message().starts_with("body:"), "{}", e.message());
    let maths_teacher = teacher(school, t_maths);
    for (who, req) in [
        (&maths_teacher, create("courses", vec![], &[art], &[])),
        (
            &maths_teacher,
            create("courses", vec![], &[maths, art], &[]),
        ),
        (&maths_teacher, create("courses", vec![], &[theirs], &[])),
        (&maths_teacher, create("school", vec![], &[], &[])),
        (&maths_teacher, create("grade_levels", vec![3], &[], &[])),
        (
            &caller(school, Role::Guardian),
            create("school", vec![], &[], &[]),
        ),
        (
            &caller(school, Role::Student),
            create("school", vec![], &[], &[]),
        ),
    ] {
        send(who, req).await.assert_code(Code::PermissionDenied);
    }
    assert_eq!(
        app.count("SELECT count(*) FROM notify.announcements").await,
        0
    );

    // The maths teacher to maths: Mum (two children in it) once and Dad;
    // not Gran (Cy was withdrawn).
    let to_maths = send(&maths_teacher, create("courses", vec![], &[maths], &[]))
        .await
        .unwrap()
        .into_inner();
    let grade3 = send(&admin, create("grade_levels", vec![3], &[], &[]))
        .await
        .unwrap()
        .into_inner();
    let chosen = send(&admin, create("guardians", vec![], &[], &[lone, dad]))
        .await
        .unwrap()
        .into_inner();
    let whole = send(&admin, create("school", vec![], &[], &[]))
        .await
        .unwrap()
        .into_inner();
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    for (a, expected) in [
        (&to_maths, vec![mum, dad]),
        (&grade3, vec![mum, gran]),
        (&chosen, vec![dad, lone]),
        (&whole, vec![mum, dad, gran]),
    ] {
        let done = eventually("the announcement is done", WAIT, || {
            let (mut c, admin, id) = (c.clone(), admin, a.id.clone());
            async move {
                let a = get(&mut c, &admin, &id).await;
                (a.status == "done").then_some(a)
            }
        })
        .await;
        assert_eq!(
            told(&app, &a.id).await,
            sorted(expected.clone()),
            "{:?}",
            a.audience
        );
        assert_eq!(done.recipients as usize, expected.len());
        assert_eq!(channel(&done, "email").sent as usize, expected.len());
    }
    assert_eq!(mails_to(&server, "mum@home.test").len(), 3);

    // The quota (4 a day) is used up: refused with the wait until the
    // school's next day, and nothing written.
    let over = send(&admin, create("school", vec![], &[], &[]))
        .await
        .assert_code(Code::ResourceExhausted);
    let wait = platform::status::retry_after(&over).expect("a retry delay");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(25 * 3600),
        "{wait:?}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM notify.announcements").await,
        4
    );

    // Reads: an admin sees the school's, a teacher their own; another
    // school's, another teacher's and a malformed id are refused.
    let page = |who: &Caller, limit: u32, cursor: String| {
        let (mut c, who) = (c.clone(), *who);
        async move {
            c.list_announcements(with_caller(
                &who,
                pb::ListAnnouncementsRequest {
                    page: Some(proto::common::v1::PageRequest { limit, cursor }),
                },
            ))
            .await
            .unwrap()
            .into_inner()
        }
    };
    let first = page(&admin, 3, String::new()).await;
    let ids: Vec<&str> = first.announcements.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, [&whole.id, &chosen.id, &grade3.id], "newest first");
    let rest = page(&admin, 3, first.page.unwrap().next_cursor).await;
    assert_eq!(rest.announcements.len(), 1);
    assert_eq!(rest.announcements[0].id, to_maths.id);
    assert!(rest.page.unwrap().next_cursor.is_empty());
    let own = page(&maths_teacher, 10, String::new()).await;
    assert_eq!(own.announcements.len(), 1);
    assert_eq!(own.announcements[0].author_user_id, t_maths.to_string());
    let art_teacher = teacher(school, t_art);
    assert!(page(&art_teacher, 10, String::new())
        .await
        .announcements
        .is_empty());
    for who in [&caller(other, Role::Admin), &art_teacher] {
        c.get_announcement(with_caller(
            who,
            pb::GetAnnouncementRequest {
                id: to_maths.id.clone(),
            },
        ))
        .await
        .assert_code(Code::NotFound);
    }
    c.get_announcement(with_caller(
        &admin,
        pb::GetAnnouncementRequest { id: "nope".into() },
    ))
    .await
    .assert_code(Code::InvalidArgument);
    c.list_announcements(with_caller(
        &caller(school, Role::Guardian),
        pb::ListAnnouncementsRequest { page: None },
    ))
    .await
    .assert_code(Code::PermissionDenied);
    app.stop().await;
}

#[tokio::test]
async fn notices_are_worded_in_the_guardians_language_where_the_school_has_one() {
    let db = platform::testing::fresh_database().await.unwrap();
    let bus = Bus::new(standalone_url()).await;
    let server = SmtpServer::start().await.unwrap();
    let app = TestApp::spawn(db.clone(), &mail_config(&db, &bus, &server)).await;
    let (school, other) = (Uuid::now_v7(), Uuid::now_v7());
    let mut templates =
        pb::notification_template_service_client::NotificationTemplateServiceClient::new(
            crate::helpers::signed(app.addr),
        );
    let admin = caller(school, Role::Admin);
    for (lang, subject) in [
        ("fr", "Paiement recu : {{ amount }} {{ currency }}"),
        ("en", "Payment in: {{ amount }} {{ currency }}"),
    ] {
        templates
            .put_notification_template(with_caller(
                &admin,
                pb::PutNotificationTemplateRequest {
                    kind: "payment_receipt".into(),
                    lang: lang.into(),
                    subject: subject.into(),
                    body: "{{ guardian_name }}: {{ balance }}".into(),
                },
            ))
            .await
            .unwrap();
    }
    // Marge prefers French (the school has it), Homer German (it has not:
    // the school's English one), Ned has no preference; Edna prefers
    // French in a school without templates (the built-in one).
    let prefs = |email: &'static str, lang: &'static str| Prefs {
        email,
        mail: true,
        lang,
        ..Prefs::default()
    };
    let mut events = Vec::new();
    let mut pay = |s: Uuid, name: &str, p: Prefs| {
        let (g, kid) = (Uuid::now_v7(), Uuid::now_v7());
        events.push(guardian_created(s, g, name, &p));
        events.push(link(s, g, kid, &p, true));
        events.push(payment(s, Uuid::now_v7(), Uuid::now_v7(), kid));
    };
    pay(school, "Marge", prefs("marge@home.test", "fr"));
    pay(school, "Homer", prefs("homer@home.test", "de"));
    pay(school, "Ned", prefs("ned@home.test", ""));
    pay(other, "Edna", prefs("edna@home.test", "fr"));
    for e in &events {
        bus.publish(e).await;
    }
    app.wait_processed(events.len() as i64).await;
    eventually("four receipts", WAIT, || async {
        server.mails().len() >= 4
    })
    .await;
    let subject = |to: &str| mails_to(&server, to)[0].header("Subject").unwrap();
    assert_eq!(subject("marge@home.test"), "Paiement recu : 100.00 EUR");
    assert_eq!(subject("homer@home.test"), "Payment in: 100.00 EUR");
    assert_eq!(subject("ned@home.test"), "Payment in: 100.00 EUR");
    assert_eq!(
        subject("edna@home.test"),
        "Receipt: 100.00 EUR received for your child"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM notify.guardians WHERE lang = 'fr'")
            .await,
        2
    );
    app.stop().await;
}

/// A batch that runs again after its commit (a worker that died before
/// recording the job's success) changes nothing: no second inbox row,
/// delivery or next batch, and the recipients are not counted twice.
#[tokio::test]
async fn a_batch_run_twice_tells_nobody_twice() {
    let (db, pool) = crate::job_helpers::setup().await;
    let school = Uuid::now_v7();
    let c = platform::testing::connect(&db.admin_url).await.unwrap();
    let guardians: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    c.execute(
        "INSERT INTO notify.guardians (school_id, guardian_id, email, notify_email, version) \
         SELECT $1, g, 'p' || i || '@home.test', true, 1 \
         FROM unnest($2::uuid[]) WITH ORDINALITY AS t(g, i)",
        &[&school, &guardians],
    )
    .await
    .unwrap();
    let admin = caller(school, Role::Admin);
    let new = notify_svc::announcements::domain::NewAnnouncement::try_from(create(
        "guardians",
        vec![],
        &[],
        &guardians,
    ))
    .unwrap();
    let a = notify_svc::announcements::repo::create(&pool, &admin, &new, 10)
        .await
        .unwrap();
    let first = notify_svc::jobs::AnnouncementBatch {
        announcement_id: a.id,
        after: None,
    };
    let run = |batch| {
        let pool = pool.clone();
        async move {
            notify_svc::announcements::fanout::run_batch(&pool, school, &batch, 3)
                .await
                .unwrap()
        }
    };
    assert_eq!(run(first.clone()).await, 3);
    assert_eq!(run(first.clone()).await, 0, "the rerun tells nobody");
    let next = notify_svc::jobs::AnnouncementBatch {
        announcement_id: a.id,
        after: Some({
            let mut g = guardians.clone();
            g.sort();
            g[2]
        }),
    };
    assert_eq!(run(next.clone()).await, 2);
    assert_eq!(run(next).await, 0);
    let count = |sql: &'static str| {
        let db = db.clone();
        async move { crate::helpers::count(&db, sql).await }
    };
    assert_eq!(count("SELECT count(*) FROM notify.notifications").await, 5);
    assert_eq!(
        count("SELECT count(*) FROM notify.jobs WHERE kind = 'email'").await,
        5
    );
    // The first batch (enqueued by the request) and the one after it.
    assert_eq!(
        count("SELECT count(*) FROM notify.jobs WHERE kind = 'announcement'").await,
        2
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM notify.announcements WHERE recipients = 5 \
               AND fanned_out_at IS NOT NULL"
        )
        .await,
        1
    );
}
