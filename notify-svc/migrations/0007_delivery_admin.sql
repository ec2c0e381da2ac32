-- A school's failed deliveries for its admins, newest first (keyset on the
-- UUIDv7 id), by status; the channel is filtered on the way.
CREATE INDEX jobs_undelivered ON jobs (school_id, status, id DESC)
    WHERE status IN ('dead', 'failed');
