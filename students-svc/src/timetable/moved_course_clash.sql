-- Whether any slot of course $2 overlaps, on the same weekday, a slot of
-- another course of term $4 in the same room or taught by teacher $3.
SELECT COALESCE(bool_or(lower(o.room) = lower(m.room)), false),
       COALESCE(bool_or(oc.teacher_id = $3), false)
FROM timetable_slots m
JOIN timetable_slots o ON o.school_id = m.school_id
  AND o.weekday = m.weekday AND o.course_id <> m.course_id
  AND o.start_time < m.end_time AND m.start_time < o.end_time
JOIN courses oc ON oc.school_id = o.school_id AND oc.id = o.course_id
WHERE m.school_id = $1 AND m.course_id = $2 AND oc.term = $4
  AND (lower(o.room) = lower(m.room) OR oc.teacher_id = $3)
