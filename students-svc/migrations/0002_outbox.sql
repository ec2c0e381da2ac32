-- Transactional outbox: every state change inserts its domain event here in
-- the same transaction; the relay publishes pending rows to Redis Streams and
-- then stamps published_at. Rows are pruned after a retention period.

CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    school_id     uuid NOT NULL,
    event_type    text NOT NULL,
    -- An encoded school.events.v1.Event (the published bytes).
    payload       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);

-- The relay's scans: the oldest pending rows, then a school's pending rows
-- in insertion order.
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_pending_by_school ON outbox (school_id, id) WHERE published_at IS NULL;
-- Pruning published rows by age.
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
