-- Many sessions' changed marks at once (the consumer's batch), newest
-- revision wins: returns each mark whose row changed with its status before
-- (NULL: first mark) and after. One entry per (course, date, period,
-- student): the caller keeps the newest revision of each.
-- $1 school, $2 courses, $3 dates, $4 periods, $5 students, $6 statuses,
-- $7 revisions.
WITH input AS (
    SELECT * FROM unnest($2::uuid[], $3::date[], $4::int2[], $5::uuid[], $6::text[], $7::int[])
        AS i(course_id, date, period, student_id, status, revision)
),
old AS (
    SELECT a.course_id, a.date, a.period, a.student_id, a.status
    FROM input i JOIN attendance a
      ON a.school_id = $1 AND a.course_id = i.course_id AND a.date = i.date
     AND a.period = i.period AND a.student_id = i.student_id
),
up AS (
    INSERT INTO attendance (school_id, course_id, date, period, student_id, status, revision)
    SELECT $1, course_id, date, period, student_id, status, revision FROM input
    ON CONFLICT (school_id, course_id, date, period, student_id) DO UPDATE
        SET status = EXCLUDED.status, revision = EXCLUDED.revision
        WHERE attendance.revision < EXCLUDED.revision
    RETURNING course_id, date, period, student_id, status
)
SELECT up.course_id, up.date, up.period, up.student_id, old.status AS old_status,
       up.status AS new_status
FROM up LEFT JOIN old ON old.course_id = up.course_id AND old.date = up.date
                     AND old.period = up.period AND old.student_id = up.student_id
