-- A teacher's marks of one session ($1 school, $2 course, $3 date, $4 period;
-- $5-$7 the entries; $8 the teacher): upserted, with an audit row for each
-- row that changed. A row changes only when its status or note differs.
-- session_after_upsert.sql follows and reads the session back.
WITH input AS (
  SELECT * FROM unnest($5::uuid[], $6::text[], $7::text[]) AS x(student_id, status, note)),
up AS (
  INSERT INTO attendance AS a (school_id, course_id, date, period, student_id,
    teacher_status, note, marked_by, marked_at)
  SELECT $1, $2, $3, $4, student_id, status, note, $8, now() FROM input
  ON CONFLICT (school_id, course_id, date, period, student_id) DO UPDATE SET
    teacher_status = EXCLUDED.teacher_status, note = EXCLUDED.note,
    marked_by = EXCLUDED.marked_by, marked_at = EXCLUDED.marked_at,
    revision = a.revision + 1
  WHERE a.teacher_status IS DISTINCT FROM EXCLUDED.teacher_status
     OR a.note IS DISTINCT FROM EXCLUDED.note
  RETURNING student_id, teacher_status, note, marked_by, marked_at, override_status,
    override_reason, overridden_by, overridden_at, effective_status, revision),
audit AS (
  INSERT INTO attendance_audit (school_id, course_id, date, period, student_id, kind,
    status, detail, actor, at, revision)
  SELECT $1, $2, $3, $4, student_id, 'mark', teacher_status, note, $8, marked_at, revision
  FROM up)
