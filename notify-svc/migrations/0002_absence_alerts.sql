-- What notify-svc knows of students-svc's records, projected from domain
-- events (never read across schemas): guardians with their contacts and
-- channel preferences, guardian↔student links, student names. Every row is
-- keyed by school first: one school's events never touch another's rows.

CREATE TABLE guardians (
    school_id     uuid NOT NULL,
    guardian_id   uuid NOT NULL,
    given_name    text NOT NULL DEFAULT '',
    family_name   text NOT NULL DEFAULT '',
    -- E.164; NULL when none.
    phone         text,
    email         text,
    notify_sms    boolean NOT NULL DEFAULT false,
    notify_email  boolean NOT NULL DEFAULT false,
    notify_push   boolean NOT NULL DEFAULT false,
    -- The guardian's portal login (push, in-app); NULL when none.
    user_id       uuid,
    -- students-svc's version of the snapshot; 0 when only a link's contact
    -- is known. An older snapshot never overwrites a newer one.
    version       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, guardian_id)
);

-- Keyed by student first: an absence looks up the student's guardians.
CREATE TABLE guardian_students (
    school_id     uuid NOT NULL,
    student_id    uuid NOT NULL,
    guardian_id   uuid NOT NULL,
    relationship  text NOT NULL,
    is_primary    boolean NOT NULL,
    PRIMARY KEY (school_id, student_id, guardian_id),
    FOREIGN KEY (school_id, guardian_id) REFERENCES guardians ON DELETE CASCADE
);
CREATE INDEX guardian_students_guardian ON guardian_students (school_id, guardian_id);

CREATE TABLE students (
    school_id     uuid NOT NULL,
    student_id    uuid NOT NULL,
    given_name    text NOT NULL,
    family_name   text NOT NULL,
    version       bigint NOT NULL,
    PRIMARY KEY (school_id, student_id)
);

-- A guardian's notifications (the in-app inbox) and the channels they asked
-- to be told on. `dedupe_key` names what a notification is about (for an
-- absence: student, course, date, period), so a re-mark or a redelivered
-- event never notifies a guardian twice.
CREATE TABLE notifications (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    school_id          uuid NOT NULL,
    guardian_id        uuid NOT NULL,
    recipient_user_id  uuid,
    student_id         uuid,
    kind               text NOT NULL CHECK (kind IN ('absence')),
    title              text NOT NULL,
    body               text NOT NULL,
    channels           text[] NOT NULL CHECK (channels <@ ARRAY['sms', 'email', 'push']),
    dedupe_key         text NOT NULL,
    source_event_id    uuid NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    read_at            timestamptz,
    UNIQUE (school_id, guardian_id, dedupe_key)
);
-- A guardian's inbox, newest first (keyset on created_at, id).
CREATE INDEX notifications_inbox ON notifications (school_id, guardian_id, created_at DESC, id DESC);
