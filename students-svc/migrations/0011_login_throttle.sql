-- students-svc's own login throttle (the gateway's per-client limit does not
-- cover a caller inside the network): failed sign-ins per school and e-mail,
-- whether or not the account exists (so a lock says nothing about that).
-- `login` is a SHA-256 of the normalised slug and e-mail: no addresses of
-- strangers are kept.
CREATE TABLE login_failures (
    login bytea PRIMARY KEY,
    failures int NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz
);
-- Stale rows are pruned a few at a time by later failures.
CREATE INDEX login_failures_window ON login_failures (window_start);
