-- Courses, their timetable, enrolments and attendance. Every table carries
-- school_id, every index leads with it, and every link to a course, student
-- or user is a composite foreign key on (school_id, id), so a row can never
-- point into another school.

-- Targets for the composite foreign keys (ids are already unique; these
-- make (school_id, id) referenceable).
ALTER TABLE users ADD CONSTRAINT users_school_id_id_key UNIQUE (school_id, id);
ALTER TABLE students ADD CONSTRAINT students_school_id_id_key UNIQUE (school_id, id);

CREATE TABLE courses (
    id          uuid PRIMARY KEY,
    school_id   uuid NOT NULL REFERENCES schools (id),
    code        text NOT NULL,
    name        text NOT NULL,
    term        text NOT NULL CHECK (term ~ '^[0-9]{4}-T[1-6]$'),
    teacher_id  uuid NOT NULL,
    capacity    integer NOT NULL CHECK (capacity BETWEEN 1 AND 500),
    -- Current enrolments; the seat counter the enrol UPDATE serialises on.
    enrolled    integer NOT NULL DEFAULT 0,
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Also the keyset index of the unfiltered and per-term lists.
    CONSTRAINT courses_code_key UNIQUE (school_id, term, code),
    CONSTRAINT courses_school_id_id_key UNIQUE (school_id, id),
    CONSTRAINT courses_teacher_fk FOREIGN KEY (school_id, teacher_id) REFERENCES users (school_id, id),
    CONSTRAINT courses_seats CHECK (enrolled BETWEEN 0 AND capacity)
);
-- A teacher's courses, in list order.
CREATE INDEX courses_by_teacher ON courses (school_id, teacher_id, term, code);

CREATE TABLE timetable_slots (
    id          uuid PRIMARY KEY,
    school_id   uuid NOT NULL,
    course_id   uuid NOT NULL,
    weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_time  time NOT NULL,
    end_time    time NOT NULL,
    room        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT timetable_slots_order CHECK (start_time < end_time),
    CONSTRAINT timetable_slots_course_fk FOREIGN KEY (school_id, course_id) REFERENCES courses (school_id, id)
);
-- A course's slots in week order.
CREATE INDEX timetable_slots_by_course ON timetable_slots (school_id, course_id, weekday, start_time);
-- Clash checks: one school's slots on one weekday.
CREATE INDEX timetable_slots_by_day ON timetable_slots (school_id, weekday, start_time);

CREATE TABLE enrolments (
    id            uuid PRIMARY KEY,
    school_id     uuid NOT NULL,
    course_id     uuid NOT NULL,
    student_id    uuid NOT NULL,
    enrolled_by   uuid NOT NULL,
    enrolled_at   timestamptz NOT NULL DEFAULT now(),
    withdrawn_by  uuid,
    withdrawn_at  timestamptz,
    CONSTRAINT enrolments_course_fk FOREIGN KEY (school_id, course_id) REFERENCES courses (school_id, id),
    CONSTRAINT enrolments_student_fk FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id),
    CONSTRAINT enrolments_enrolled_by_fk FOREIGN KEY (school_id, enrolled_by) REFERENCES users (school_id, id),
    CONSTRAINT enrolments_withdrawn_by_fk FOREIGN KEY (school_id, withdrawn_by) REFERENCES users (school_id, id)
);
-- One current enrolment per student and course (a withdrawn one may be renewed).
CREATE UNIQUE INDEX enrolments_active_key ON enrolments (school_id, course_id, student_id)
    WHERE withdrawn_at IS NULL;
-- The roster, keyset in enrolment order (ids are UUIDv7).
CREATE INDEX enrolments_roster ON enrolments (school_id, course_id, id) WHERE withdrawn_at IS NULL;
-- A student's courses.
CREATE INDEX enrolments_by_student ON enrolments (school_id, student_id);

-- One row per student and course session. The teacher's mark and the
-- office's override are separate; the effective status is derived.
CREATE TABLE attendance (
    school_id         uuid NOT NULL,
    course_id         uuid NOT NULL,
    date              date NOT NULL,
    -- 0: the day's session; 1-12: a numbered period.
    period            smallint NOT NULL CHECK (period BETWEEN 0 AND 12),
    student_id        uuid NOT NULL,
    teacher_status    text CHECK (teacher_status IN ('present', 'absent', 'late', 'excused')),
    note              text NOT NULL DEFAULT '',
    marked_by         uuid,
    marked_at         timestamptz,
    override_status   text CHECK (override_status IN ('present', 'absent', 'late', 'excused')),
    override_reason   text,
    overridden_by     uuid,
    overridden_at     timestamptz,
    effective_status  text GENERATED ALWAYS AS (COALESCE(override_status, teacher_status)) STORED,
    revision          integer NOT NULL DEFAULT 1,
    PRIMARY KEY (school_id, course_id, date, period, student_id),
    CONSTRAINT attendance_has_status CHECK (teacher_status IS NOT NULL OR override_status IS NOT NULL),
    CONSTRAINT attendance_course_fk FOREIGN KEY (school_id, course_id) REFERENCES courses (school_id, id),
    CONSTRAINT attendance_student_fk FOREIGN KEY (school_id, student_id) REFERENCES students (school_id, id),
    CONSTRAINT attendance_marked_by_fk FOREIGN KEY (school_id, marked_by) REFERENCES users (school_id, id),
    CONSTRAINT attendance_overridden_by_fk FOREIGN KEY (school_id, overridden_by) REFERENCES users (school_id, id)
);
-- Per-student roll-ups over a date range.
CREATE INDEX attendance_by_student ON attendance (school_id, student_id, date);

-- Every change to an attendance row (marks, corrections, overrides): who,
-- when, what, and the row's revision after it.
CREATE TABLE attendance_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   uuid NOT NULL,
    course_id   uuid NOT NULL,
    date        date NOT NULL,
    period      smallint NOT NULL,
    student_id  uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('mark', 'override')),
    status      text NOT NULL,
    -- The note of a mark or the reason of an override.
    detail      text NOT NULL,
    actor       uuid NOT NULL,
    at          timestamptz NOT NULL,
    revision    integer NOT NULL
);
CREATE INDEX attendance_audit_by_record ON attendance_audit (school_id, course_id, date, period, student_id, id);
