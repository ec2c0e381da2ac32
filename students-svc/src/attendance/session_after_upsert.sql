-- The session after an upsert (the `up` CTE), in the same statement: the
-- rows the upsert changed from its RETURNING, flagged, and the untouched ones
-- from the statement's snapshot (which does not see its own writes).
SELECT student_id, teacher_status, note, marked_by, marked_at, override_status,
  override_reason, overridden_by, overridden_at, effective_status, revision,
  true AS changed FROM up
UNION ALL
SELECT a.student_id, a.teacher_status, a.note, a.marked_by, a.marked_at,
  a.override_status, a.override_reason, a.overridden_by, a.overridden_at,
  a.effective_status, a.revision, false FROM attendance a
WHERE a.school_id = $1 AND a.course_id = $2 AND a.date = $3 AND a.period = $4
  AND NOT EXISTS (SELECT 1 FROM up WHERE up.student_id = a.student_id)
ORDER BY student_id
