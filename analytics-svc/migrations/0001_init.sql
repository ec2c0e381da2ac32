-- Inbox of processed domain events: applying an event and recording its id
-- happen in one transaction, so a redelivered event is a no-op.
CREATE TABLE processed_events (
    event_id      uuid PRIMARY KEY,
    processed_at  timestamptz NOT NULL DEFAULT now()
);
