-- The office's overrides of one session ($1 school, $2 course, $3 date,
-- $4 period; $5-$7 the entries; $8 the admin): upserted, with an audit row
-- for each row that changed. A row changes only when its status or reason
-- differs. session_after_upsert.sql follows and reads the session back.
WITH input AS (
  SELECT * FROM unnest($5::uuid[], $6::text[], $7::text[]) AS x(student_id, status, reason)),
up AS (
  INSERT INTO attendance AS a (school_id, course_id, date, period, student_id,
    override_status, override_reason, overridden_by, overridden_at)
  SELECT $1, $2, $3, $4, student_id, status, reason, $8, now() FROM input
  ON CONFLICT (school_id, course_id, date, period, student_id) DO UPDATE SET
    override_status = EXCLUDED.override_status, override_reason = EXCLUDED.override_reason,
    overridden_by = EXCLUDED.overridden_by, overridden_at = EXCLUDED.overridden_at,
    revision = a.revision + 1
  WHERE a.override_status IS DISTINCT FROM EXCLUDED.override_status
     OR a.override_reason IS DISTINCT FROM EXCLUDED.override_reason
  RETURNING student_id, teacher_status, note, marked_by, marked_at, override_status,
    override_reason, overridden_by, overridden_at, effective_status, revision),
audit AS (
  INSERT INTO attendance_audit (school_id, course_id, date, period, student_id, kind,
    status, detail, actor, at, revision)
  SELECT $1, $2, $3, $4, student_id, 'override', override_status, override_reason, $8,
    overridden_at, revision FROM up)
