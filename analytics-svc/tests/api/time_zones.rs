//! "Today" is the school's: at 20:00 UTC on 12 March 2030 it is already the
//! 13th in Auckland and still the 12th in Los Angeles, so the same marks
//! count on different dashboards' today, the timetable's weekday differs,
//! and a payment at the turn of a month lands in the school's month.

use chrono::{TimeZone, Utc};
use platform::caller::Role;
use proto::analytics::v1 as pb;
use uuid::Uuid;

use crate::helpers::{call, caller, School, TestApp};

#[tokio::test]
async fn the_same_marks_count_on_each_schools_own_day() {
    let app = TestApp::quiet().await;
    let mut client = app.client().await;
    let payment_at = Utc.with_ymd_and_hms(2030, 3, 31, 12, 0, 0).unwrap();
    let mut seen = Vec::new();
    for (zone, slug) in [("Pacific/Auckland", "akl"), ("America/Los_Angeles", "lax")] {
        let s = School::new();
        let (teacher, course, ann, ben) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let (inv, pay) = (Uuid::now_v7(), Uuid::now_v7());
        app.apply(&[
            s.settings(slug, zone, 2, 1, 1),
            s.course(course, "MAT", teacher, 30, 1),
            // Tuesday (2) and Wednesday (3) slots.
            s.slot(course, 2, "09:00"),
            s.slot(course, 3, "09:00"),
            s.slot(course, 3, "11:00"),
            s.mark(
                course,
                "2030-03-12",
                1,
                &[(ann, "absent", 1), (ben, "absent", 1)],
            ),
            s.mark(
                course,
                "2030-03-13",
                1,
                &[(ann, "present", 1), (ben, "late", 1)],
            ),
            s.invoice(inv, ann, 1000, 0, "issued", "2030-03-01", "2030-04-30", 1),
            s.payment(pay, inv, ann, 400, 1000, 400, 2, payment_at),
        ])
        .await;
        let d = client
            .get_school_dashboard(call(
                &caller(s.id(), Uuid::now_v7(), Role::Admin),
                pb::GetSchoolDashboardRequest {},
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(d.time_zone, zone);
        seen.push((
            d.today.clone(),
            d.today_attendance.clone().unwrap(),
            d.sessions_scheduled_today,
            d.fees.clone(),
        ));
    }
    let (akl, lax) = (&seen[0], &seen[1]);
    assert_eq!(
        (akl.0.as_str(), lax.0.as_str()),
        ("2030-03-13", "2030-03-12")
    );
    assert_eq!((akl.1.present, akl.1.late, akl.1.absent), (1, 1, 0));
    assert_eq!(akl.1.rate, 10_000);
    assert_eq!((lax.1.present, lax.1.late, lax.1.absent), (0, 0, 2));
    assert_eq!(lax.1.rate, 0);
    assert_eq!(
        (akl.2, lax.2),
        (2, 1),
        "Wednesday's slots in Auckland, Tuesday's in LA"
    );
    // The payment at 12:00 UTC on 31 March is 1 April in Auckland. Auckland's
    // school year (from 1 February) has not reached April on its "today",
    // so its dashboard shows March's billing only; LA's shows the payment.
    let march =
        |fees: &[pb::FeesMonth]| fees.iter().find(|m| m.month == "2030-03").cloned().unwrap();
    assert_eq!(march(&akl.3).collected, 0);
    assert_eq!(march(&lax.3).collected, 400);
    let c = platform::testing::connect(&app.db.admin_url).await.unwrap();
    let months: Vec<String> = c
        .query(
            "SELECT to_char(f.month, 'YYYY-MM') FROM analytics.fees_months f \
             JOIN analytics.schools s USING (school_id) WHERE f.collected > 0 ORDER BY s.slug",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(months, ["2030-04", "2030-03"], "akl, lax");
    app.stop().await;
}
