-- A teacher's assessments due before today this school year, each with the
-- students it has grades for (NULL: none yet), by due date. The caller
-- counts the grades of currently enrolled students against the course's
-- enrolments (read once per course): a probe of the enrolments per grade
-- touched ten times the pages, which at district scale left shared buffers.
-- $1 school, $2 the teacher's courses, $3 today, $4 the school year's start.
SELECT a.assessment_id, a.course_id, a.title, a.due_on, g.student_id
FROM assessments a
LEFT JOIN grades g ON g.school_id = a.school_id AND g.assessment_id = a.assessment_id
WHERE a.school_id = $1 AND a.course_id = ANY($2) AND a.due_on < $3 AND a.due_on >= $4
ORDER BY a.due_on, a.assessment_id
