-- The school dashboard's lowest course averages: a top-N scan of this
-- index (its expression is the statement's ORDER BY), not a sort of every
-- course. The predicate keeps the division away from rows without grades.
CREATE INDEX course_grades_lowest ON course_grades (school_id, (pct_sum / grades), course_id)
    WHERE grades > 0;

-- ListCourseGrades pages in code order.
CREATE INDEX courses_by_code ON courses (school_id, code, course_id);
