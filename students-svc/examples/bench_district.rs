//! The district data set of the dashboard benchmark (bench/run.sh, phase
//! `district`), written straight into students-svc's own tables: schools of
//! `--students` students with their admin and teachers, courses, timetable,
//! enrolments, a term of attendance (marks, overrides and their audit rows,
//! revisions as the API writes them), assessments with grades, and an invoice
//! per student with its payments. analytics-svc's read models are then built
//! from it by the real rebuild (`analytics-svc rebuild --school <id>`, which
//! reads students-svc's export), so every figure measured on it comes from
//! real rows through the real code; only the write path is skipped, because
//! 5,000,000 attendance rows through the HTTP API would take hours here.
//!
//! cargo run --release -p students-svc --example bench_district -- \
//!     --database-url "$STUDENTS_DATABASE_URL" --from 1 --to 40 --out bench/.work/district
//!
//! Deterministic: every id is `md5(seed, kind, school, n)` and every choice a
//! hash of `--seed` and the row's key (Postgres' `hashtextextended`), so the
//! same `--seed` always gives the same rows; only the dates move, the term
//! being the `--days` school days (Monday to Friday) that end yesterday (UTC,
//! the schools' time zone). School `n` is `district-NN`; its accounts are
//! `admin@district-NN.bench.test` and `tNNN@district-NN.bench.test` (teacher
//! NNN teaches group NNN: one course per weekday), all with the password
//! [`PASSWORD`]. Each student is in one group of `--class-size` and takes its
//! five courses, one a weekday, so each school day gives every student one
//! marked session: `--days` × `--students` attendance rows per school
//! (defaults: 50 × 2,500 = 125,000; 40 schools = 100,000 students and
//! 5,000,000 rows).
//!
//! Seeding a school that exists fails (the bench starts from an empty
//! database); `--from`/`--to` select the schools, so a run can seed one,
//! measure, then seed the rest. Writes `<out>/schools.txt` ("slug id" lines)
//! and appends to `<out>/students.txt` ("slug student-id", every
//! `--sample-every`th student) and `<out>/teachers.txt` ("slug e-mail").

use std::{path::PathBuf, time::Instant};

use anyhow::{ensure, Context, Result};
use argon2::{
    password_hash::{PasswordHasher, SaltString},
    Argon2,
};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use clap::Parser;
use tokio_postgres::{Client, NoTls};

#[derive(Parser, Debug)]
#[command(about = "Seed the district benchmark data set into students-svc's database")]
struct Args {
    /// students-svc's database (the `students_svc` role: search_path `students`).
    #[arg(long, env = "STUDENTS_DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// First and last school to seed (1-based, inclusive).
    #[arg(long, default_value_t = 1)]
    from: u32,
    #[arg(long, default_value_t = 40)]
    to: u32,
    #[arg(long, default_value_t = 2_500)]
    students: u32,
    #[arg(long, default_value_t = 25)]
    class_size: u32,
    /// School days of attendance, ending yesterday.
    #[arg(long, default_value_t = 50)]
    days: u32,
    /// Seed of every id and every pseudo-random choice.
    #[arg(long, default_value_t = 15)]
    seed: i64,
    /// One student in this many goes to students.txt (the hot set).
    #[arg(long, default_value_t = 25)]
    sample_every: u32,
    #[arg(long, default_value = "bench/.work/district")]
    out: PathBuf,
    /// Schools written at the same time (one connection each).
    #[arg(long, default_value_t = 2)]
    jobs: u32,
}

/// Every district account's password.
pub const PASSWORD: &str = "bench-district-password-1";

/// Five subjects, one a weekday (Monday = 1).
const SUBJECTS: [(&str, &str); 5] = [
    ("MATH", "Mathematics"),
    ("LANG", "Language"),
    ("SCI", "Science"),
    ("HIST", "History"),
    ("ART", "Art"),
];

const GIVEN: &[&str] = &[
    "Ada", "Aiko", "Amara", "Ana", "Arjun", "Ben", "Bilal", "Camille", "Chen", "Chloe", "Dev",
    "Diego", "Elif", "Emma", "Esi", "Farid", "Fatima", "Grace", "Hana", "Hugo", "Ines", "Ivan",
    "Jun", "Kofi", "Lars", "Layla", "Leo", "Lucia", "Mateo", "Maya", "Mei", "Nadia", "Noah",
    "Omar", "Priya", "Rafael", "Sofia", "Tariq", "Yara", "Zoe",
];
const FAMILY: &[&str] = &[
    "Adeyemi",
    "Alvarez",
    "Andersen",
    "Bianchi",
    "Brown",
    "Chen",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fischer",
    "Garcia",
    "Haddad",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kim",
    "Kowalski",
    "Lindqvist",
    "Mensah",
    "Moreau",
    "Nakamura",
    "Novak",
    "Nguyen",
    "Okafor",
    "Olsen",
    "Patel",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sato",
    "Schmidt",
    "Silva",
    "Singh",
    "Tanaka",
    "Van Dijk",
    "Wagner",
    "Walsh",
    "Yilmaz",
    "Zhang",
    "O''Brien",
];

fn slug(s: u32) -> String {
    format!("district-{s:02}")
}

/// The `days` weekdays before `today`, oldest first.
fn term(today: NaiveDate, days: u32) -> Vec<NaiveDate> {
    let mut out = Vec::with_capacity(days as usize);
    let mut d = today;
    while out.len() < days as usize {
        d = d - Days::new(1);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(d);
        }
    }
    out.reverse();
    out
}

fn sql_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Session helpers: deterministic ids and uniform numbers in [0, 1).
async fn helpers(db: &Client, seed: i64) -> Result<()> {
    db.batch_execute(&format!(
        "CREATE FUNCTION pg_temp.u(k text, s int, n bigint) RETURNS uuid IMMUTABLE LANGUAGE sql \
           AS $$ SELECT md5('district-{seed}:' || k || ':' || s || ':' || n)::uuid $$;
         CREATE FUNCTION pg_temp.r(k text) RETURNS float8 IMMUTABLE LANGUAGE sql \
           AS $$ SELECT (hashtextextended(k, {seed}) & 9007199254740991)::float8 / 9007199254740992.0 $$;"
    ))
    .await
    .context("session helpers")
}

/// A connection with the session helpers.
async fn connect(a: &Args) -> Result<Client> {
    let (db, conn) = tokio_postgres::connect(&a.database_url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("bench_district: connection: {e}");
        }
    });
    helpers(&db, a.seed).await?;
    Ok(db)
}

struct Plan<'a> {
    a: &'a Args,
    days: &'a [NaiveDate],
    groups: u32,
    hash: &'a str,
}

/// One school, in one transaction.
async fn school(db: &mut Client, p: &Plan<'_>, s: u32) -> Result<()> {
    let a = p.a;
    let g = p.groups;
    let n = a.students;
    let slug = slug(s);
    let first = p.days[0];
    let day = |i: usize| p.days[i.min(p.days.len() - 1)];
    let days_sql = p
        .days
        .iter()
        .map(|d| format!("'{d}'"))
        .collect::<Vec<_>>()
        .join(",");
    let term_label = format!("{}-T1", first.year());
    let given = sql_list(GIVEN);
    let family = sql_list(FAMILY);
    let codes = sql_list(&SUBJECTS.map(|x| x.0));
    let names = sql_list(&SUBJECTS.map(|x| x.1));
    let capacity = n.div_ceil(g) + 5;
    let school_id = format!("pg_temp.u('school', {s}, 0)");
    let admin = format!("pg_temp.u('user', {s}, 0)");
    let tx = db.transaction().await?;
    tx.execute(
        &format!(
            "INSERT INTO schools (id, name, slug, time_zone, year_start_month, year_start_day) \
             VALUES ({school_id}, 'District School {s:02}', '{slug}', 'UTC', {}, 1)",
            first.month()
        ),
        &[],
    )
    .await
    .with_context(|| format!("school {slug} (seeding needs an empty database)"))?;
    // The admin and one teacher per group.
    tx.execute(
        &format!(
            "INSERT INTO users (id, school_id, email, password_hash, full_name, role) \
             SELECT pg_temp.u('user', {s}, t), {school_id}, \
               CASE WHEN t = 0 THEN 'admin@{slug}.bench.test' \
                    ELSE 't' || lpad(t::text, 3, '0') || '@{slug}.bench.test' END, \
               $1, CASE WHEN t = 0 THEN 'District Admin {s:02}' ELSE 'Teacher ' || t END, \
               CASE WHEN t = 0 THEN 'admin' ELSE 'teacher' END \
             FROM generate_series(0, {g}) t"
        ),
        &[&p.hash],
    )
    .await
    .context("users")?;
    tx.batch_execute(&format!(
        "INSERT INTO staff_profiles (school_id, user_id, subjects, employee_no, hired_on) \
         SELECT {school_id}, pg_temp.u('user', {s}, t), ARRAY[(ARRAY[{names}])[1 + t % 5]], \
           'E' || lpad(t::text, 4, '0'), DATE '2020-08-15' \
         FROM generate_series(1, {g}) t;

         INSERT INTO students (id, school_id, admission_no, given_name, family_name, date_of_birth, \
           grade_level, section, status) \
         SELECT pg_temp.u('student', {s}, i), {school_id}, 'D-' || lpad(i::text, 5, '0'), \
           (ARRAY[{given}])[1 + floor(pg_temp.r('given:{s}:' || i) * {ng})::int], \
           (ARRAY[{family}])[1 + floor(pg_temp.r('family:{s}:' || i) * {nf})::int], \
           DATE '2008-01-01' + floor(pg_temp.r('dob:{s}:' || i) * 4748)::int, \
           (i - 1) % 13, (ARRAY['A','B','C','D'])[1 + ((i - 1) / 13) % 4], 'active' \
         FROM generate_series(1, {n}) i;

         -- Course c: subject c / groups on weekday subject + 1, group c % groups,
         -- taught by that group's teacher.
         INSERT INTO courses (id, school_id, code, name, term, teacher_id, capacity) \
         SELECT pg_temp.u('course', {s}, c), {school_id}, \
           (ARRAY[{codes}])[1 + c / {g}] || '-' || lpad((c % {g})::text, 3, '0'), \
           (ARRAY[{names}])[1 + c / {g}] || ' group ' || (c % {g} + 1), '{term_label}', \
           pg_temp.u('user', {s}, c % {g} + 1), {capacity} \
         FROM generate_series(0, 5 * {g} - 1) c;

         INSERT INTO timetable_slots (id, school_id, course_id, weekday, start_time, end_time, room) \
         SELECT pg_temp.u('slot', {s}, c), {school_id}, pg_temp.u('course', {s}, c), 1 + c / {g}, \
           TIME '08:00' + ((c % {g}) % 7) * INTERVAL '1 hour', \
           TIME '08:50' + ((c % {g}) % 7) * INTERVAL '1 hour', 'R' || lpad((c % {g})::text, 3, '0') \
         FROM generate_series(0, 5 * {g} - 1) c;

         -- Student i is in group (i - 1) % groups and takes its five courses.
         INSERT INTO enrolments (id, school_id, course_id, student_id, enrolled_by, enrolled_at) \
         SELECT pg_temp.u('enrol', {s}, subj * {n} + i), {school_id}, \
           pg_temp.u('course', {s}, subj * {g} + (i - 1) % {g}), pg_temp.u('student', {s}, i), \
           {admin}, TIMESTAMPTZ '{first} 08:00:00+00' - INTERVAL '7 days' \
         FROM generate_series(0, 4) subj, generate_series(1, {n}) i;

         -- Statistics that know this school's rows: planned on the previous
         -- schools' alone, the joins below take nested loops over everything.
         ANALYZE students, courses, timetable_slots, enrolments;

         UPDATE courses c SET enrolled = e.n \
         FROM (SELECT course_id, count(*)::int n FROM enrolments WHERE school_id = {school_id} \
               GROUP BY course_id) e \
         WHERE c.school_id = {school_id} AND c.id = e.course_id;

         -- One session a school day per student (its course of that weekday),
         -- marked by the teacher at the start of the lesson. One student in
         -- ten is often absent (12 %, the chronic-absence list), the others
         -- 3 %; a quarter of the absences is overridden to excused by the
         -- office the next day (revision 2).
         INSERT INTO attendance (school_id, course_id, date, period, student_id, teacher_status, \
           marked_by, marked_at, override_status, override_reason, overridden_by, overridden_at, \
           revision) \
         SELECT {school_id}, e.course_id, d, 1, e.student_id, m.status, c.teacher_id, \
           (d + ts.start_time + INTERVAL '5 minutes') AT TIME ZONE 'UTC', \
           CASE WHEN m.ovr THEN 'excused' END, CASE WHEN m.ovr THEN 'note from home' END, \
           CASE WHEN m.ovr THEN {admin} END, \
           CASE WHEN m.ovr THEN (d + TIME '09:30' + INTERVAL '1 day') AT TIME ZONE 'UTC' END, \
           CASE WHEN m.ovr THEN 2 ELSE 1 END \
         FROM unnest(ARRAY[{days_sql}]::date[]) d \
         JOIN timetable_slots ts ON ts.school_id = {school_id} \
           AND ts.weekday = extract(isodow FROM d)::int \
         JOIN courses c ON c.school_id = {school_id} AND c.id = ts.course_id \
         JOIN enrolments e ON e.school_id = {school_id} AND e.course_id = ts.course_id, \
         LATERAL (SELECT x, CASE WHEN pg_temp.r('risk:' || e.student_id) < 0.1 THEN 0.12 \
                                 ELSE 0.03 END AS absent \
                  FROM (SELECT pg_temp.r(e.student_id || ':' || d) AS x) r) q, \
         LATERAL (SELECT CASE WHEN q.x < q.absent THEN 'absent' \
                              WHEN q.x < q.absent + 0.02 THEN 'late' \
                              WHEN q.x < q.absent + 0.03 THEN 'excused' \
                              ELSE 'present' END AS status, \
                         q.x < q.absent AND pg_temp.r('ovr:' || e.student_id || ':' || d) < 0.25 \
                           AS ovr) m;

         ANALYZE attendance;

         INSERT INTO attendance_audit (school_id, course_id, date, period, student_id, kind, \
           status, detail, actor, at, revision) \
         SELECT school_id, course_id, date, period, student_id, 'mark', teacher_status, note, \
           marked_by, marked_at, 1 \
         FROM attendance WHERE school_id = {school_id} \
         UNION ALL \
         SELECT school_id, course_id, date, period, student_id, 'override', override_status, \
           override_reason, overridden_by, overridden_at, 2 \
         FROM attendance WHERE school_id = {school_id} AND override_status IS NOT NULL;

         -- Three assessments a course: two published with every grade in,
         -- the last past due, unpublished, a fifth of its grades missing.
         INSERT INTO assessments (id, school_id, course_id, title, max_score, weight, due_on, \
           published_at, published_by, created_by, updated_by) \
         SELECT pg_temp.u('assessment', {s}, c * 3 + k), {school_id}, pg_temp.u('course', {s}, c), \
           (ARRAY['Quiz 1','Test 1','Project'])[k], (ARRAY[2000, 10000, 5000])[k], \
           (ARRAY[2000, 5000, 3000])[k], (ARRAY[DATE '{d1}', DATE '{d2}', DATE '{d3}'])[k], \
           CASE WHEN k < 3 THEN ((ARRAY[DATE '{d1}', DATE '{d2}'])[k] + TIME '16:00' \
             + INTERVAL '2 days') AT TIME ZONE 'UTC' END, \
           CASE WHEN k < 3 THEN {admin} END, \
           pg_temp.u('user', {s}, c % {g} + 1), pg_temp.u('user', {s}, c % {g} + 1) \
         FROM generate_series(0, 5 * {g} - 1) c, generate_series(1, 3) k;

         ANALYZE assessments;

         INSERT INTO grades (school_id, assessment_id, student_id, score, graded_by, graded_at) \
         SELECT {school_id}, a.id, e.student_id, \
           floor(a.max_score * (CASE WHEN pg_temp.r('weak:' || e.student_id) < 0.05 THEN 0.25 \
             ELSE 0.5 END + 0.5 * pg_temp.r(a.id || ':' || e.student_id)))::int, \
           a.created_by, (a.due_on + TIME '18:00') AT TIME ZONE 'UTC' \
         FROM assessments a \
         JOIN enrolments e ON e.school_id = a.school_id AND e.course_id = a.course_id \
         WHERE a.school_id = {school_id} \
           AND (a.published_at IS NOT NULL OR pg_temp.r('done:' || a.id || e.student_id) < 0.8);

         -- One term fee per student: 60 % paid, 20 % half paid, 20 % unpaid
         -- (overdue: due 30 days after the term began).
         INSERT INTO invoices (id, school_id, student_id, currency, status, total, amount_paid, \
           issued_on, due_on, created_by, version) \
         SELECT pg_temp.u('invoice', {s}, i), {school_id}, pg_temp.u('student', {s}, i), 'EUR', \
           v.status, 150000, v.paid, DATE '{first}', DATE '{first}' + 30, {admin}, \
           CASE WHEN v.paid > 0 THEN 2 ELSE 1 END \
         FROM generate_series(1, {n}) i, \
         LATERAL (SELECT CASE WHEN x < 0.6 THEN 'paid' WHEN x < 0.8 THEN 'partially_paid' \
                              ELSE 'issued' END AS status, \
                         CASE WHEN x < 0.6 THEN 150000 WHEN x < 0.8 THEN 75000 ELSE 0 END AS paid \
                  FROM (SELECT pg_temp.r('fee:{s}:' || i) AS x) r) v;

         INSERT INTO invoice_lines (school_id, invoice_id, line_no, description, quantity, \
           unit_amount, amount) \
         SELECT school_id, id, 1, 'Term fee', 1, total, total \
         FROM invoices WHERE school_id = {school_id};

         INSERT INTO payments (id, school_id, invoice_id, amount, currency, method, \
           amount_due_after, idempotency_key, request_hash, recorded_by, created_at) \
         SELECT pg_temp.u('payment', {s}, row_number() OVER (ORDER BY id)), school_id, id, \
           amount_paid, currency, 'bank_transfer', total - amount_paid, 'seed-' || id, \
           sha256(convert_to(id::text, 'UTF8')), {admin}, (issued_on + 20 + TIME '10:00') AT TIME ZONE 'UTC' \
         FROM invoices WHERE school_id = {school_id} AND amount_paid > 0;",
        ng = GIVEN.len(),
        nf = FAMILY.len(),
        d1 = day(p.days.len() * 3 / 10),
        d2 = day(p.days.len() * 7 / 10),
        d3 = day(p.days.len().saturating_sub(3)),
    ))
    .await
    .with_context(|| format!("seeding {slug}"))?;
    tx.commit().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    ensure!(
        a.from >= 1 && a.from <= a.to && a.to <= 99,
        "--from/--to must be 1..99"
    );
    ensure!(
        a.class_size >= 1 && a.students >= a.class_size && a.students <= 99_999,
        "--students must be class-size..99999"
    );
    ensure!(a.days >= 5, "--days must be at least 5");
    let groups = a.students / a.class_size;
    ensure!(
        groups <= 999,
        "--students / --class-size must be at most 999"
    );
    let days = term(chrono::Utc::now().date_naive(), a.days);

    let settings = platform::db::PoolSettings::default();
    platform::db::migrate(
        &a.database_url,
        &settings,
        students_svc::startup::MIGRATIONS,
    )
    .await?;
    let db = connect(&a).await?;
    // One hash for every account, with a fixed salt: same data every run.
    let salt = SaltString::encode_b64(b"schoolhouse-district-bench")
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = Argon2::default()
        .hash_password(PASSWORD.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string();
    let plan = Plan {
        a: &a,
        days: &days,
        groups,
        hash: &hash,
    };

    std::fs::create_dir_all(&a.out)?;
    let started = Instant::now();
    // `--jobs` workers, each its own connection, take every jobs-th school.
    let jobs = a.jobs.clamp(1, 16);
    let plan = &plan;
    futures::future::try_join_all((0..jobs).map(|k| async move {
        let mut db = connect(plan.a).await?;
        for s in (plan.a.from + k..=plan.a.to).step_by(jobs as usize) {
            let t = Instant::now();
            school(&mut db, plan, s).await?;
            println!(
                "bench_district: {} seeded ({} students, {} attendance rows) in {:.1} s",
                slug(s),
                plan.a.students,
                u64::from(plan.a.students) * u64::from(plan.a.days),
                t.elapsed().as_secs_f64()
            );
        }
        anyhow::Ok(())
    }))
    .await?;
    db.batch_execute("ANALYZE").await?;

    // What the bench needs: school ids, a sample of students, the teachers.
    let rows = db
        .query(
            "SELECT s.slug, s.id::text FROM schools s WHERE s.slug LIKE 'district-%' ORDER BY s.slug",
            &[],
        )
        .await?;
    let mut schools = String::new();
    for r in &rows {
        schools.push_str(&format!(
            "{} {}\n",
            r.get::<_, String>(0),
            r.get::<_, String>(1)
        ));
    }
    std::fs::write(a.out.join("schools.txt"), schools)?;
    let mut students = String::new();
    let mut teachers = String::new();
    for s in a.from..=a.to {
        let rows = db
            .query(
                "SELECT i, pg_temp.u('student', $1, i)::text FROM generate_series(1, $2::int, $3::int) i",
                &[&(s as i32), &(a.students as i32), &(a.sample_every.max(1) as i32)],
            )
            .await?;
        for r in rows {
            students.push_str(&format!("{} {}\n", slug(s), r.get::<_, String>(1)));
        }
        for t in 1..=groups {
            teachers.push_str(&format!("{} t{t:03}@{}.bench.test\n", slug(s), slug(s)));
        }
    }
    use std::io::Write;
    let append = |name: &str, text: &str| -> Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(a.out.join(name))?;
        f.write_all(text.as_bytes())?;
        Ok(())
    };
    append("students.txt", &students)?;
    append("teachers.txt", &teachers)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "bench_district: schools {}..{} seeded in {secs:.1} s ({} school days {}..{}, seed {})",
        a.from,
        a.to,
        a.days,
        days[0],
        days[days.len() - 1],
        a.seed
    );
    Ok(())
}
