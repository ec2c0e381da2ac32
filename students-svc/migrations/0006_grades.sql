-- Assessments per course and the grades of their students. Points are
-- fixed-point with two decimals, stored as integer hundredths (87.5 points
-- = 8750); weights are percentages with two decimals, stored as hundredths
-- of a percent (12.5 % = 1250). Every link is a composite foreign key on
-- (school_id, id), so a row can never point into another school; every
-- index leads with school_id. The (school_id, id) keys of courses, students
-- and users come with 0003.

CREATE TABLE assessments (
    id            uuid PRIMARY KEY,
    school_id     uuid NOT NULL REFERENCES schools (id),
    course_id     uuid NOT NULL,
    title         text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description   text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    -- Hundredths of a point: 0.01 to 1000.00 points.
    max_score     integer NOT NULL CHECK (max_score BETWEEN 1 AND 100000),
    -- Hundredths of a percent: 0.01 % to 100.00 %.
    weight        integer NOT NULL CHECK (weight BETWEEN 1 AND 10000),
    due_on        date NOT NULL,
    -- Grades are drafts until the assessment is published.
    published_at  timestamptz,
    published_by  uuid,
    version       bigint NOT NULL DEFAULT 1,
    created_by    uuid NOT NULL,
    updated_by    uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assessments_school_id_id_key UNIQUE (school_id, id),
    CONSTRAINT assessments_course_fk FOREIGN KEY (school_id, course_id)
        REFERENCES courses (school_id, id),
    CONSTRAINT assessments_created_by_fk FOREIGN KEY (school_id, created_by)
        REFERENCES users (school_id, id),
    CONSTRAINT assessments_updated_by_fk FOREIGN KEY (school_id, updated_by)
        REFERENCES users (school_id, id),
    CONSTRAINT assessments_published_by_fk FOREIGN KEY (school_id, published_by)
        REFERENCES users (school_id, id),
    CONSTRAINT assessments_published CHECK ((published_at IS NULL) = (published_by IS NULL))
);
-- A course's assessments, keyset in (due_on, id) order.
CREATE INDEX assessments_by_course ON assessments (school_id, course_id, due_on, id);

-- One row per assessment and student: the current score and who set it.
CREATE TABLE grades (
    school_id      uuid NOT NULL,
    assessment_id  uuid NOT NULL,
    student_id     uuid NOT NULL,
    -- Hundredths of a point, at most the assessment's max_score (checked
    -- under the assessment's row lock: the table cannot see it).
    score          integer NOT NULL CHECK (score >= 0),
    graded_by      uuid NOT NULL,
    graded_at      timestamptz NOT NULL DEFAULT now(),
    -- 1 when first written; +1 on every change of the score.
    revision       integer NOT NULL DEFAULT 1,
    PRIMARY KEY (school_id, assessment_id, student_id),
    CONSTRAINT grades_assessment_fk FOREIGN KEY (school_id, assessment_id)
        REFERENCES assessments (school_id, id),
    CONSTRAINT grades_student_fk FOREIGN KEY (school_id, student_id)
        REFERENCES students (school_id, id),
    CONSTRAINT grades_graded_by_fk FOREIGN KEY (school_id, graded_by)
        REFERENCES users (school_id, id)
);
-- A student's grades, keyset in assessment order (ids are UUIDv7).
CREATE INDEX grades_by_student ON grades (school_id, student_id, assessment_id);
