-- A teacher's assessments due before today this school year with enrolled
-- students still ungraded: the course's enrolled count minus the grades of
-- currently enrolled students (one probe per grade on enrolments_by_student).
-- $1 school, $2 the teacher's courses, $3 today, $4 the school year's start.
SELECT a.assessment_id, a.course_id, a.title, a.due_on, m.missing
FROM assessments a
JOIN courses c ON c.school_id = a.school_id AND c.course_id = a.course_id
CROSS JOIN LATERAL (
    SELECT c.enrolled - (
        SELECT count(*) FROM grades g
        JOIN enrolments e ON e.school_id = g.school_id AND e.student_id = g.student_id
                         AND e.course_id = a.course_id AND e.active
        WHERE g.school_id = a.school_id AND g.assessment_id = a.assessment_id
    ) AS missing
) m
WHERE a.school_id = $1 AND a.course_id = ANY($2) AND a.due_on < $3 AND a.due_on >= $4
  AND m.missing > 0
ORDER BY a.due_on, a.assessment_id
