-- A user's inbox, newest first (keyset on created_at, id), and its unread
-- ones (the badge count and `unread=true`).
CREATE INDEX notifications_by_recipient
    ON notifications (school_id, recipient_user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_by_recipient
    ON notifications (school_id, recipient_user_id, created_at DESC, id DESC)
    WHERE read_at IS NULL;

-- Realtime pushes are delivery jobs too: published only once the
-- notification's transaction has committed, retried while Redis is away.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('sms', 'push'));
