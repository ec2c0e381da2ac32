-- Durable delivery jobs (SMS today). Workers claim due rows with
-- FOR UPDATE SKIP LOCKED and hold them under a lease: a row is `running`
-- exactly while a lease is held, and only the holder of `lease_token` may
-- finish it. An expired lease (a crashed worker) is put back in the queue.
CREATE TABLE jobs (
    id                uuid PRIMARY KEY,
    school_id         uuid NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('sms')),
    payload           jsonb NOT NULL,
    -- Enqueueing the same delivery twice is a no-op.
    dedupe_key        text NOT NULL CHECK (length(dedupe_key) BETWEEN 1 AND 200),
    status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
    run_at            timestamptz NOT NULL DEFAULT now(),
    lease_owner       text CHECK (length(lease_owner) <= 200),
    lease_token       uuid,
    lease_expires_at  timestamptz,
    -- Short and free of personal data (status codes, never numbers or text).
    last_error        text CHECK (length(last_error) <= 300),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobs_dedupe UNIQUE (school_id, dedupe_key),
    CONSTRAINT jobs_lease_iff_running CHECK (
        (status = 'running') = (lease_token IS NOT NULL)
        AND (lease_token IS NULL) = (lease_expires_at IS NULL)
        AND (lease_token IS NULL) = (lease_owner IS NULL)
    )
);

-- The dequeue: the oldest due queued row.
CREATE INDEX jobs_due ON jobs (run_at) WHERE status = 'queued';
-- The reaper: running rows whose lease has expired.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
-- Queue depth by status (an index-only scan).
CREATE INDEX jobs_status ON jobs (status);
-- Pruning finished rows after the retention period.
CREATE INDEX jobs_finished ON jobs (updated_at) WHERE status IN ('succeeded', 'failed');
