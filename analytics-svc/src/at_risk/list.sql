-- One page of the early-warning list in name order, from at_risk_by_name
-- (or at_risk_by_grade with a grade). $1 school, $2 reason, $3 grade or
-- NULL, $4 course or NULL, $5 teacher or NULL (a teacher's own courses
-- only), $6-$8 the cursor or NULLs, $9 rows to fetch.
SELECT a.student_id, a.given_name, a.family_name, a.grade_level, a.section,
       a.chronic, a.consecutive, a.low_grade, a.recent_rate, a.absent_run,
       a.lowest_average, a.lowest_course
FROM at_risk a
WHERE a.school_id = $1
  AND ($2::text = 'any' OR ($2 = 'chronic' AND a.chronic)
       OR ($2 = 'consecutive' AND a.consecutive) OR ($2 = 'low_grade' AND a.low_grade))
  AND ($3::int IS NULL OR a.grade_level = $3)
  AND ($4::uuid IS NULL OR EXISTS (
        SELECT 1 FROM enrolments e
        WHERE e.school_id = $1 AND e.student_id = a.student_id AND e.course_id = $4 AND e.active))
  AND ($5::uuid IS NULL OR EXISTS (
        SELECT 1 FROM enrolments e
        JOIN courses c ON c.school_id = e.school_id AND c.course_id = e.course_id
        WHERE e.school_id = $1 AND e.student_id = a.student_id AND e.active AND c.teacher_id = $5))
  AND ($6::text IS NULL OR (a.family_name, a.given_name, a.student_id) > ($6, $7::text, $8::uuid))
ORDER BY a.family_name, a.given_name, a.student_id
LIMIT $9
