-- Read models kept current from students-svc's domain events
-- (analytics-svc/src/projection/). Every table leads with school_id: every
-- statement is bounded by one school, and a rebuild clears one school with
-- one DELETE per table. Counters are maintained by deltas (old vs new state
-- of the row an event replaces), so no event recounts a school.

-- One row per school: its settings (SchoolChanged, newest version wins) and
-- the counters the school dashboard reads in one probe.
CREATE TABLE schools (
    school_id        uuid PRIMARY KEY,
    slug             text,
    name             text NOT NULL DEFAULT '',
    time_zone        text NOT NULL DEFAULT 'UTC',
    year_start_month smallint NOT NULL DEFAULT 9,
    year_start_day   smallint NOT NULL DEFAULT 1,
    version          bigint NOT NULL DEFAULT 0,
    active_students  integer NOT NULL DEFAULT 0,
    staff            integer NOT NULL DEFAULT 0,
    courses          integer NOT NULL DEFAULT 0,
    at_risk          integer NOT NULL DEFAULT 0
);
-- `rebuild --school <slug>` resolves the slug here.
CREATE INDEX schools_by_slug ON schools (slug);

-- Students as of their newest snapshot; a row with version 0 is a
-- placeholder (a fact about the student arrived before the student).
CREATE TABLE students (
    school_id    uuid NOT NULL,
    student_id   uuid NOT NULL,
    given_name   text NOT NULL DEFAULT '',
    family_name  text NOT NULL DEFAULT '',
    grade_level  integer NOT NULL DEFAULT 0,
    section      text NOT NULL DEFAULT '',
    active       boolean NOT NULL DEFAULT false,
    version      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, student_id)
);
-- The attendance report narrowed to a grade reads one grade's students.
CREATE INDEX students_by_grade ON students (school_id, grade_level, student_id) WHERE active;

-- Active students per grade and section.
CREATE TABLE grade_sections (
    school_id    uuid NOT NULL,
    grade_level  integer NOT NULL,
    section      text NOT NULL,
    students     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, grade_level, section)
);

-- Logins (UserCreated); staff = admin and teacher logins.
CREATE TABLE users (
    school_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    role       text NOT NULL,
    PRIMARY KEY (school_id, user_id)
);

-- Guardians' portal logins, and their links to students (newest version
-- wins), for "a guardian reads only their children".
CREATE TABLE guardians (
    school_id    uuid NOT NULL,
    guardian_id  uuid NOT NULL,
    user_id      uuid,
    version      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, guardian_id)
);
CREATE INDEX guardians_by_user ON guardians (school_id, user_id) WHERE user_id IS NOT NULL;
CREATE TABLE guardian_links (
    school_id    uuid NOT NULL,
    student_id   uuid NOT NULL,
    guardian_id  uuid NOT NULL,
    linked       boolean NOT NULL,
    version      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, student_id, guardian_id)
);

-- Courses (newest version wins; version 0 = placeholder made by an
-- enrolment seen first) with their current enrolment count.
CREATE TABLE courses (
    school_id   uuid NOT NULL,
    course_id   uuid NOT NULL,
    code        text NOT NULL DEFAULT '',
    name        text NOT NULL DEFAULT '',
    term        text NOT NULL DEFAULT '',
    teacher_id  uuid,
    capacity    integer NOT NULL DEFAULT 0,
    enrolled    integer NOT NULL DEFAULT 0,
    version     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, course_id)
);
CREATE INDEX courses_by_teacher ON courses (school_id, teacher_id, code) WHERE teacher_id IS NOT NULL;

-- Timetable slots (immutable once added) and their count per weekday.
CREATE TABLE timetable_slots (
    school_id   uuid NOT NULL,
    slot_id     uuid NOT NULL,
    course_id   uuid NOT NULL,
    weekday     smallint NOT NULL,
    start_time  text NOT NULL,
    end_time    text NOT NULL,
    room        text NOT NULL DEFAULT '',
    PRIMARY KEY (school_id, slot_id)
);
CREATE INDEX slots_by_course ON timetable_slots (school_id, course_id, weekday, start_time);
CREATE TABLE weekday_slots (
    school_id  uuid NOT NULL,
    weekday    smallint NOT NULL,
    slots      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, weekday)
);

-- Enrolments (newest version wins: 1 enrolled, 2 withdrawn).
CREATE TABLE enrolments (
    school_id     uuid NOT NULL,
    enrolment_id  uuid NOT NULL,
    course_id     uuid NOT NULL,
    student_id    uuid NOT NULL,
    active        boolean NOT NULL,
    version       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, enrolment_id)
);
CREATE INDEX enrolments_by_course ON enrolments (school_id, course_id, student_id) WHERE active;
CREATE INDEX enrolments_by_student ON enrolments (school_id, student_id, course_id) WHERE active;

-- Attendance: one row per (course, date, period, student), the newest
-- revision's effective status.
CREATE TABLE attendance (
    school_id   uuid NOT NULL,
    course_id   uuid NOT NULL,
    date        date NOT NULL,
    period      smallint NOT NULL,
    student_id  uuid NOT NULL,
    status      text NOT NULL,
    revision    integer NOT NULL,
    PRIMARY KEY (school_id, course_id, date, period, student_id)
);
-- A student's attendance per course this year (student summary).
CREATE INDEX attendance_by_student ON attendance (school_id, student_id, course_id, date);

-- Marked sessions: (course, date, period) with at least one mark.
CREATE TABLE sessions (
    school_id  uuid NOT NULL,
    date       date NOT NULL,
    course_id  uuid NOT NULL,
    period     smallint NOT NULL,
    PRIMARY KEY (school_id, date, course_id, period)
);

-- Per school day (a date with any mark): sessions marked and
-- student-session statuses. The last 30 rows are the school's window.
CREATE TABLE days (
    school_id  uuid NOT NULL,
    date       date NOT NULL,
    sessions   integer NOT NULL DEFAULT 0,
    present    integer NOT NULL DEFAULT 0,
    absent     integer NOT NULL DEFAULT 0,
    late       integer NOT NULL DEFAULT 0,
    excused    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, date)
);

-- The same per course and day.
CREATE TABLE course_days (
    school_id  uuid NOT NULL,
    course_id  uuid NOT NULL,
    date       date NOT NULL,
    present    integer NOT NULL DEFAULT 0,
    absent     integer NOT NULL DEFAULT 0,
    late       integer NOT NULL DEFAULT 0,
    excused    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, course_id, date)
);

-- The same per student and day: a student-day is absent when every marked
-- session of it is absent (absent = present + absent + late + excused).
CREATE TABLE student_days (
    school_id   uuid NOT NULL,
    student_id  uuid NOT NULL,
    date        date NOT NULL,
    present     integer NOT NULL DEFAULT 0,
    absent      integer NOT NULL DEFAULT 0,
    late        integer NOT NULL DEFAULT 0,
    excused     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, student_id, date)
);
-- The window shift subtracts the day that leaves it, for its students.
CREATE INDEX student_days_by_date ON student_days (school_id, date);

-- Per student over the school's last 30 school days: statuses (maintained
-- by deltas and by subtracting the day that leaves the window) and the run
-- of absent school days up to the latest.
CREATE TABLE student_recent (
    school_id   uuid NOT NULL,
    student_id  uuid NOT NULL,
    present     integer NOT NULL DEFAULT 0,
    absent      integer NOT NULL DEFAULT 0,
    late        integer NOT NULL DEFAULT 0,
    excused     integer NOT NULL DEFAULT 0,
    absent_run  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, student_id)
);

-- Assessments (newest version wins; published never goes back) with their
-- grade statistics, recomputed from their grades when either changes:
-- count, sum, ten 10 % bands, and their contribution to the course's
-- average published grade.
CREATE TABLE assessments (
    school_id      uuid NOT NULL,
    assessment_id  uuid NOT NULL,
    course_id      uuid NOT NULL,
    title          text NOT NULL DEFAULT '',
    max_score      integer NOT NULL DEFAULT 0,
    weight         integer NOT NULL DEFAULT 0,
    due_on         date,
    published      boolean NOT NULL DEFAULT false,
    version        bigint NOT NULL DEFAULT 0,
    graded         integer NOT NULL DEFAULT 0,
    score_sum      bigint NOT NULL DEFAULT 0,
    bands          integer[] NOT NULL DEFAULT '{0,0,0,0,0,0,0,0,0,0}',
    contrib_pct    bigint NOT NULL DEFAULT 0,
    contrib_n      integer NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, assessment_id)
);
CREATE INDEX assessments_by_course ON assessments (school_id, course_id, due_on);

CREATE TABLE grades (
    school_id      uuid NOT NULL,
    assessment_id  uuid NOT NULL,
    student_id     uuid NOT NULL,
    score          integer NOT NULL,
    revision       integer NOT NULL,
    PRIMARY KEY (school_id, assessment_id, student_id)
);
CREATE INDEX grades_by_student ON grades (school_id, student_id, assessment_id);

-- Average published grade per course: sum of grade percents (hundredths)
-- and their number, from the assessments' contributions.
CREATE TABLE course_grades (
    school_id  uuid NOT NULL,
    course_id  uuid NOT NULL,
    pct_sum    bigint NOT NULL DEFAULT 0,
    grades     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, course_id)
);

-- A student's weighted average per course (hundredths of a percent), over
-- all grades (staff) and over published ones (student, guardian).
CREATE TABLE student_courses (
    school_id         uuid NOT NULL,
    student_id        uuid NOT NULL,
    course_id         uuid NOT NULL,
    avg_all           integer NOT NULL DEFAULT 0,
    graded_all        integer NOT NULL DEFAULT 0,
    avg_published     integer NOT NULL DEFAULT 0,
    graded_published  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, student_id, course_id)
);

-- Invoices (newest version wins; a payment seen first makes a placeholder
-- whose issue date and currency the invoice's own event fills in).
CREATE TABLE invoices (
    school_id    uuid NOT NULL,
    invoice_id   uuid NOT NULL,
    student_id   uuid,
    currency     text,
    total        bigint NOT NULL DEFAULT 0,
    amount_paid  bigint NOT NULL DEFAULT 0,
    amount_due   bigint NOT NULL DEFAULT 0,
    status       text NOT NULL DEFAULT 'draft',
    issued_on    date,
    due_on       date,
    version      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, invoice_id)
);
CREATE INDEX invoices_by_student ON invoices (school_id, student_id);

-- Payments by id: a redelivered payment never counts twice.
CREATE TABLE payments (
    school_id   uuid NOT NULL,
    payment_id  uuid NOT NULL,
    invoice_id  uuid NOT NULL,
    amount      bigint NOT NULL,
    currency    text NOT NULL,
    month       date NOT NULL,
    PRIMARY KEY (school_id, payment_id)
);

-- Per month (its first day) and currency: billed by issue month (net of
-- voids), still due on those invoices, collected by payment month in the
-- school's time zone.
CREATE TABLE fees_months (
    school_id    uuid NOT NULL,
    month        date NOT NULL,
    currency     text NOT NULL,
    billed       bigint NOT NULL DEFAULT 0,
    collected    bigint NOT NULL DEFAULT 0,
    outstanding  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, month, currency)
);

-- Open invoices (issued, partially paid) per due date: overdue today is
-- the sum of the rows before today, one short index range.
CREATE TABLE open_due (
    school_id  uuid NOT NULL,
    due_on     date NOT NULL,
    invoices   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, due_on)
);

-- Early warning: one row per active student with at least one reason,
-- kept current as events arrive (projection/risk.rs). Names copied so the
-- list pages in name order from one index.
CREATE TABLE at_risk (
    school_id       uuid NOT NULL,
    student_id      uuid NOT NULL,
    family_name     text NOT NULL,
    given_name      text NOT NULL,
    grade_level     integer NOT NULL,
    section         text NOT NULL,
    chronic         boolean NOT NULL,
    consecutive     boolean NOT NULL,
    low_grade       boolean NOT NULL,
    recent_rate     integer NOT NULL,
    absent_run      integer NOT NULL,
    lowest_average  integer,
    lowest_course   uuid,
    PRIMARY KEY (school_id, student_id)
);
CREATE INDEX at_risk_by_name ON at_risk (school_id, family_name, given_name, student_id);
CREATE INDEX at_risk_by_grade ON at_risk (school_id, grade_level, family_name, given_name, student_id);
