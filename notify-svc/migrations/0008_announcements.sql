-- Guardians' preferred language (the guardian events' `contact.language`);
-- NULL: the school's. Notices are worded in it where the school has a
-- template in that language.
ALTER TABLE guardians ADD COLUMN lang text CHECK (lang ~ '^[a-z]{2}$');

-- What an announcement's audience is resolved from: students' grade level
-- and standing (student.* events), courses' teachers (course.*, for a
-- teacher's own courses) and enrolments (enrolment.*). Newest version wins,
-- as everywhere in the projection.
ALTER TABLE students
    ADD COLUMN grade_level integer,
    -- Not archived, graduated or withdrawn: still told.
    ADD COLUMN active boolean NOT NULL DEFAULT true;

CREATE TABLE courses (
    school_id   uuid NOT NULL,
    course_id   uuid NOT NULL,
    teacher_id  uuid,
    version     bigint NOT NULL,
    PRIMARY KEY (school_id, course_id)
);

-- An enrolment row is made once and withdrawn at most once (version 1,
-- then 2); a re-enrolment is a new row.
CREATE TABLE enrolments (
    school_id     uuid NOT NULL,
    enrolment_id  uuid NOT NULL,
    course_id     uuid NOT NULL,
    student_id    uuid NOT NULL,
    enrolled      boolean NOT NULL,
    version       bigint NOT NULL,
    PRIMARY KEY (school_id, enrolment_id)
);
CREATE INDEX enrolments_current ON enrolments (school_id, student_id, course_id) WHERE enrolled;

-- Announcements: the audience as sent, and the fan-out's progress (batches
-- done, guardians reached, when the last batch ended). Ids are UUIDv7:
-- newest first is id order.
CREATE TABLE announcements (
    id              uuid PRIMARY KEY,
    school_id       uuid NOT NULL,
    author_user_id  uuid NOT NULL,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    audience_kind   text NOT NULL
                    CHECK (audience_kind IN ('school', 'grade_levels', 'courses', 'guardians')),
    grade_levels    integer[] NOT NULL DEFAULT '{}',
    course_ids      uuid[] NOT NULL DEFAULT '{}',
    guardian_ids    uuid[] NOT NULL DEFAULT '{}',
    recipients      integer NOT NULL DEFAULT 0,
    batches         integer NOT NULL DEFAULT 0,
    fanned_out_at   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX announcements_by_school ON announcements (school_id, id DESC);
CREATE INDEX announcements_by_author ON announcements (school_id, author_user_id, id DESC);

-- Announcements sent per school and local day, against the daily quota
-- (one atomic upsert per announcement).
CREATE TABLE announcement_quota (
    school_id  uuid NOT NULL,
    day        date NOT NULL,
    used       integer NOT NULL CHECK (used >= 0),
    PRIMARY KEY (school_id, day)
);

-- An announcement's deliveries carry its id: its progress is one grouped
-- count over them.
ALTER TABLE jobs ADD COLUMN announcement_id uuid;
CREATE INDEX jobs_by_announcement ON jobs (announcement_id, kind, status)
    WHERE announcement_id IS NOT NULL;

-- The fan-out runs as jobs (`announcement`, one per batch of recipients).
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('sms', 'push', 'email', 'invoice_reminders', 'announcement'));

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('absence', 'grades_published', 'invoice_issued', 'invoice_overdue',
                    'payment_receipt', 'announcement'));
