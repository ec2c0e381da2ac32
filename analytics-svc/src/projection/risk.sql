-- Re-judges the given students (their facts just changed): the run of
-- absent school days up to their latest (within the window), then the
-- early-warning reasons, then their at_risk rows (inserted, updated or
-- removed) and the school's at-risk count by the difference (written only
-- when it is not zero).
-- $1 school, $2 students, $3 chronic rate, $4 consecutive days,
-- $5 low average (hundredths), $6 window size - 1.
WITH win AS (
    SELECT coalesce(
        (SELECT date FROM days WHERE school_id = $1 ORDER BY date DESC OFFSET $6 LIMIT 1),
        '-infinity'::date) AS since
),
s AS (SELECT DISTINCT unnest($2::uuid[]) AS student_id),
runs AS (
    SELECT s.student_id, (
        SELECT count(*) FROM student_days d
        WHERE d.school_id = $1 AND d.student_id = s.student_id
          AND d.date >= (SELECT since FROM win)
          AND d.date > coalesce((
              SELECT max(x.date) FROM student_days x
              WHERE x.school_id = $1 AND x.student_id = s.student_id
                AND x.date >= (SELECT since FROM win)
                AND x.absent < x.present + x.absent + x.late + x.excused),
              '-infinity'::date)
    )::int AS absent_run
    FROM s
),
recent AS (
    UPDATE student_recent r SET absent_run = runs.absent_run
    FROM runs
    WHERE r.school_id = $1 AND r.student_id = runs.student_id
    RETURNING r.student_id, r.present, r.absent, r.late, r.excused, r.absent_run
),
low AS (
    -- Per student (LATERAL with LIMIT: one index probe each, never a scan
    -- of the school's rows, whatever plan the prepared statement gets).
    SELECT s.student_id, l.avg_all, l.course_id
    FROM s CROSS JOIN LATERAL (
        SELECT c.avg_all, c.course_id FROM student_courses c
        WHERE c.school_id = $1 AND c.student_id = s.student_id AND c.graded_all > 0
          AND EXISTS (SELECT 1 FROM enrolments e
                      WHERE e.school_id = $1 AND e.student_id = c.student_id
                        AND e.course_id = c.course_id AND e.active)
        ORDER BY c.avg_all, c.course_id
        LIMIT 1
    ) l
),
judged AS (
    SELECT s.student_id, st.family_name, st.given_name, st.grade_level, st.section,
           coalesce(r.present + r.absent + r.late + r.excused, 0) AS marked,
           CASE WHEN coalesce(r.present + r.absent + r.late + r.excused, 0) = 0 THEN 0
                ELSE round((r.present + r.late) * 10000.0
                           / (r.present + r.absent + r.late + r.excused))::int END AS recent_rate,
           coalesce(r.absent_run, 0) AS absent_run,
           l.avg_all AS lowest_average, l.course_id AS lowest_course
    FROM s
    CROSS JOIN LATERAL (
        SELECT x.family_name, x.given_name, x.grade_level, x.section FROM students x
        WHERE x.school_id = $1 AND x.student_id = s.student_id AND x.active
        LIMIT 1
    ) st
    LEFT JOIN recent r ON r.student_id = s.student_id
    LEFT JOIN low l ON l.student_id = s.student_id
),
flagged AS (
    SELECT j.*, j.marked > 0 AND j.recent_rate < $3 AS chronic,
           j.absent_run >= $4 AS consecutive,
           coalesce(j.lowest_average < $5, false) AS low_grade
    FROM judged j
),
gone AS (
    -- The rows found by primary-key probes, deleted by their ctid.
    DELETE FROM at_risk a
    USING (
        SELECT x.row FROM s CROSS JOIN LATERAL (
            SELECT y.ctid AS row FROM at_risk y
            WHERE y.school_id = $1 AND y.student_id = s.student_id
            LIMIT 1
        ) x
    ) hit
    WHERE a.ctid = hit.row
      AND NOT EXISTS (SELECT 1 FROM flagged f WHERE f.student_id = a.student_id
                      AND (f.chronic OR f.consecutive OR f.low_grade))
    RETURNING 1
),
kept AS (
    INSERT INTO at_risk (school_id, student_id, family_name, given_name, grade_level, section,
                         chronic, consecutive, low_grade, recent_rate, absent_run,
                         lowest_average, lowest_course)
    SELECT $1, f.student_id, f.family_name, f.given_name, f.grade_level, f.section,
           f.chronic, f.consecutive, f.low_grade, f.recent_rate, f.absent_run,
           CASE WHEN f.low_grade THEN f.lowest_average END,
           CASE WHEN f.low_grade THEN f.lowest_course END
    FROM flagged f WHERE f.chronic OR f.consecutive OR f.low_grade
    ON CONFLICT (school_id, student_id) DO UPDATE SET
        family_name = EXCLUDED.family_name, given_name = EXCLUDED.given_name,
        grade_level = EXCLUDED.grade_level, section = EXCLUDED.section,
        chronic = EXCLUDED.chronic, consecutive = EXCLUDED.consecutive,
        low_grade = EXCLUDED.low_grade, recent_rate = EXCLUDED.recent_rate,
        absent_run = EXCLUDED.absent_run, lowest_average = EXCLUDED.lowest_average,
        lowest_course = EXCLUDED.lowest_course
    -- An unchanged row is not rewritten (no new row version).
    WHERE (at_risk.family_name, at_risk.given_name, at_risk.grade_level, at_risk.section,
           at_risk.chronic, at_risk.consecutive, at_risk.low_grade, at_risk.recent_rate,
           at_risk.absent_run, at_risk.lowest_average, at_risk.lowest_course)
          IS DISTINCT FROM
          (EXCLUDED.family_name, EXCLUDED.given_name, EXCLUDED.grade_level, EXCLUDED.section,
           EXCLUDED.chronic, EXCLUDED.consecutive, EXCLUDED.low_grade, EXCLUDED.recent_rate,
           EXCLUDED.absent_run, EXCLUDED.lowest_average, EXCLUDED.lowest_course)
    RETURNING (xmax = 0) AS inserted
)
INSERT INTO schools (school_id, at_risk)
SELECT $1, d FROM (
    SELECT (SELECT count(*) FILTER (WHERE inserted) FROM kept) - (SELECT count(*) FROM gone) AS d
) delta
WHERE d <> 0
ON CONFLICT (school_id) DO UPDATE SET at_risk = schools.at_risk + EXCLUDED.at_risk
