-- One session's changed marks, newest revision wins: returns each student
-- whose row changed with its status before (NULL: first mark) and after.
-- $1 school, $2 course, $3 date, $4 period, $5 students, $6 statuses,
-- $7 revisions (one entry per student).
WITH input AS (
    SELECT * FROM unnest($5::uuid[], $6::text[], $7::int[]) AS i(student_id, status, revision)
),
old AS (
    SELECT a.student_id, a.status
    FROM attendance a JOIN input i ON i.student_id = a.student_id
    WHERE a.school_id = $1 AND a.course_id = $2 AND a.date = $3 AND a.period = $4
),
up AS (
    INSERT INTO attendance (school_id, course_id, date, period, student_id, status, revision)
    SELECT $1, $2, $3, $4, student_id, status, revision FROM input
    ON CONFLICT (school_id, course_id, date, period, student_id) DO UPDATE
        SET status = EXCLUDED.status, revision = EXCLUDED.revision
        WHERE attendance.revision < EXCLUDED.revision
    RETURNING student_id, status
)
SELECT up.student_id, old.status AS old_status, up.status AS new_status
FROM up LEFT JOIN old ON old.student_id = up.student_id
