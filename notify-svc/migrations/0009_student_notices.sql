-- Notices to students themselves (a published grade in their inbox and by
-- push): no guardian. A guardian's notice is deduped per guardian, a
-- student's per student, so a re-publish or a redelivered event never tells
-- either twice.
ALTER TABLE notifications ALTER COLUMN guardian_id DROP NOT NULL;
CREATE UNIQUE INDEX notifications_student_dedupe
    ON notifications (school_id, student_id, dedupe_key)
    WHERE guardian_id IS NULL;
ALTER TABLE notifications ADD CONSTRAINT notifications_student_notice
    CHECK (guardian_id IS NOT NULL OR (student_id IS NOT NULL AND recipient_user_id IS NOT NULL));
