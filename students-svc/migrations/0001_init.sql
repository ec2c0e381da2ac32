-- Tenants, logins and student records. Every table carries school_id and
-- every index leads with it: queries are always scoped to one school.

CREATE TABLE schools (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    slug        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE students (
    id             uuid PRIMARY KEY,
    school_id      uuid NOT NULL REFERENCES schools (id),
    admission_no   text NOT NULL,
    given_name     text NOT NULL,
    family_name    text NOT NULL,
    date_of_birth  date NOT NULL,
    grade_level    smallint NOT NULL CHECK (grade_level BETWEEN 0 AND 12),
    section        text NOT NULL DEFAULT '',
    status         text NOT NULL CHECK (status IN ('active', 'graduated', 'withdrawn')),
    version        bigint NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    archived_at    timestamptz,
    CONSTRAINT students_admission_no_key UNIQUE (school_id, admission_no)
);

-- Keyset pagination in name order, optionally narrowed by grade/section or status.
CREATE INDEX students_by_name ON students (school_id, family_name, given_name, id)
    WHERE archived_at IS NULL;
CREATE INDEX students_by_grade ON students (school_id, grade_level, section, family_name, given_name, id)
    WHERE archived_at IS NULL;
CREATE INDEX students_by_status ON students (school_id, status, family_name, given_name, id)
    WHERE archived_at IS NULL;
-- Case-insensitive prefix search (`q`) on names and admission number.
CREATE INDEX students_family_prefix ON students (school_id, lower(family_name) text_pattern_ops)
    WHERE archived_at IS NULL;
CREATE INDEX students_given_prefix ON students (school_id, lower(given_name) text_pattern_ops)
    WHERE archived_at IS NULL;
CREATE INDEX students_admission_prefix ON students (school_id, lower(admission_no) text_pattern_ops)
    WHERE archived_at IS NULL;

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    school_id      uuid NOT NULL REFERENCES schools (id),
    email          text NOT NULL,
    password_hash  text NOT NULL,
    full_name      text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'teacher', 'student', 'guardian')),
    student_id     uuid REFERENCES students (id),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (school_id, email),
    CONSTRAINT users_student_login CHECK ((role = 'student') = (student_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_one_login_per_student ON users (student_id) WHERE student_id IS NOT NULL;
