-- Guardians, their links to students, guardian logins and teacher profiles.
-- Child rows reference their parents by (school_id, id), so a link between
-- two schools cannot exist (the (school_id, id) keys of students and users
-- come with 0003); every index leads with school_id.

CREATE TABLE guardians (
    id            uuid PRIMARY KEY,
    school_id     uuid NOT NULL REFERENCES schools (id),
    given_name    text NOT NULL,
    family_name   text NOT NULL,
    relationship  text NOT NULL
        CHECK (relationship IN ('mother', 'father', 'guardian', 'grandparent', 'other')),
    phone         text CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    email         text,
    notify_sms    boolean NOT NULL DEFAULT false,
    notify_email  boolean NOT NULL DEFAULT false,
    notify_push   boolean NOT NULL DEFAULT false,
    version       bigint NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT guardians_school_id_id_key UNIQUE (school_id, id),
    CONSTRAINT guardians_sms_needs_phone CHECK (NOT notify_sms OR phone IS NOT NULL),
    CONSTRAINT guardians_email_needs_email CHECK (NOT notify_email OR email IS NOT NULL)
);
-- Keyset pagination in name order.
CREATE INDEX guardians_by_name ON guardians (school_id, family_name, given_name, id);

CREATE TABLE guardian_students (
    school_id     uuid NOT NULL,
    guardian_id   uuid NOT NULL,
    student_id    uuid NOT NULL,
    relationship  text NOT NULL
        CHECK (relationship IN ('mother', 'father', 'guardian', 'grandparent', 'other')),
    is_primary    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT guardian_students_pkey PRIMARY KEY (school_id, guardian_id, student_id),
    CONSTRAINT guardian_students_guardian_fk FOREIGN KEY (school_id, guardian_id)
        REFERENCES guardians (school_id, id),
    CONSTRAINT guardian_students_student_fk FOREIGN KEY (school_id, student_id)
        REFERENCES students (school_id, id)
);
-- Guardians of one student (list filter, access checks from the student side).
CREATE INDEX guardian_students_by_student ON guardian_students (school_id, student_id, guardian_id);
-- At most one primary guardian per student.
CREATE UNIQUE INDEX guardian_students_one_primary ON guardian_students (school_id, student_id)
    WHERE is_primary;

-- Guardian portal logins: role guardian exactly when linked to a guardian.
ALTER TABLE users ADD COLUMN guardian_id uuid;
ALTER TABLE users ADD CONSTRAINT users_guardian_fk FOREIGN KEY (school_id, guardian_id)
    REFERENCES guardians (school_id, id);
ALTER TABLE users ADD CONSTRAINT users_guardian_login
    CHECK ((role = 'guardian') = (guardian_id IS NOT NULL));
CREATE UNIQUE INDEX users_one_login_per_guardian ON users (school_id, guardian_id)
    WHERE guardian_id IS NOT NULL;
-- Staff list: one school's users of a role in name order.
CREATE INDEX users_by_role_name ON users (school_id, role, full_name, id);

CREATE TABLE staff_profiles (
    school_id     uuid NOT NULL,
    user_id       uuid NOT NULL,
    phone         text CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    subjects      text[] NOT NULL DEFAULT '{}' CHECK (cardinality(subjects) <= 20),
    employee_no   text NOT NULL,
    hired_on      date NOT NULL,
    version       bigint NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT staff_profiles_pkey PRIMARY KEY (school_id, user_id),
    CONSTRAINT staff_profiles_user_fk FOREIGN KEY (school_id, user_id)
        REFERENCES users (school_id, id),
    CONSTRAINT staff_profiles_employee_no_key UNIQUE (school_id, employee_no)
);
