-- Sessions (issue 19): a sign-in starts a session whose refresh token renews
-- the gateway's short-lived access tokens.
--
-- A user's `session_epoch` ends every session of the user at once: a
-- session is live only while its `epoch` equals its user's (so archiving,
-- deactivating, a new password or role bumps one column, not every session
-- row), and access tokens carry the epoch they were issued under (the
-- gateway refuses older ones).
ALTER TABLE users
    ADD COLUMN session_epoch bigint NOT NULL DEFAULT 0,
    -- Set by an admin's password reset; cleared by the user's change.
    ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    school_id     uuid NOT NULL,
    user_id       uuid NOT NULL REFERENCES users (id),
    -- SHA-256 of the current refresh secret (the token itself is never kept).
    secret_hash   bytea NOT NULL,
    epoch         bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    refreshed_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    -- logout | reuse (a spent refresh token came back)
    end_reason    text
);
-- Expired sessions are pruned a few at a time by later sign-ins.
CREATE INDEX sessions_expiry ON sessions (expires_at);
