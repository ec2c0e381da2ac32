-- The weighted averages (hundredths of a percent) of the given students in
-- one course, over all their grades and over published ones: the mean of
-- score / max score weighted by the assessments' weights. Rows of students
-- left with no grade in the course are removed.
-- $1 school, $2 course, $3 students.
WITH s AS (SELECT DISTINCT unnest($3::uuid[]) AS student_id),
agg AS (
    SELECT s.student_id,
           count(x.score) AS n_all,
           sum(x.weight * x.score::numeric / x.max_score) AS w_all,
           sum(x.weight) AS weights_all,
           count(x.score) FILTER (WHERE x.published) AS n_pub,
           sum(x.weight * x.score::numeric / x.max_score) FILTER (WHERE x.published) AS w_pub,
           sum(x.weight) FILTER (WHERE x.published) AS weights_pub
    FROM s
    LEFT JOIN (
        SELECT g.student_id, g.score, a.max_score, a.weight, a.published
        FROM grades g
        JOIN assessments a ON a.school_id = g.school_id AND a.assessment_id = g.assessment_id
        WHERE g.school_id = $1 AND g.student_id = ANY($3::uuid[]) AND a.course_id = $2
          AND a.max_score > 0 AND a.weight > 0
    ) x ON x.student_id = s.student_id
    GROUP BY s.student_id
),
gone AS (
    DELETE FROM student_courses c USING agg
    WHERE c.school_id = $1 AND c.course_id = $2 AND c.student_id = agg.student_id
      AND agg.n_all = 0
)
INSERT INTO student_courses (school_id, student_id, course_id, avg_all, graded_all,
                             avg_published, graded_published)
SELECT $1, student_id, $2,
       round(10000 * w_all / weights_all)::int, n_all::int,
       coalesce(round(10000 * w_pub / weights_pub)::int, 0), n_pub::int
FROM agg WHERE n_all > 0
ON CONFLICT (school_id, student_id, course_id) DO UPDATE SET
    avg_all = EXCLUDED.avg_all, graded_all = EXCLUDED.graded_all,
    avg_published = EXCLUDED.avg_published, graded_published = EXCLUDED.graded_published
