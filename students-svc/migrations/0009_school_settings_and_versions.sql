-- The school's time zone and school year: "today", school days and "this
-- school year" are the school's, not the server's. Validated by the service
-- (IANA zone names; a day that exists in every year).
ALTER TABLE schools
    ADD COLUMN time_zone        text     NOT NULL DEFAULT 'UTC',
    ADD COLUMN year_start_month smallint NOT NULL DEFAULT 9
        CHECK (year_start_month BETWEEN 1 AND 12),
    ADD COLUMN year_start_day   smallint NOT NULL DEFAULT 1
        CHECK (year_start_day BETWEEN 1 AND 31),
    ADD COLUMN version          bigint   NOT NULL DEFAULT 1,
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now();

-- Versions carried by events, so that consumers apply each fact only when it
-- is newer than what they hold, whatever order events arrive in.
ALTER TABLE invoices ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- A guardian-student link is deleted when unlinked; its version must
-- outlive it, so that a late `guardian.linked` never undoes a newer unlink
-- (or the reverse). One row per pair ever linked.
CREATE TABLE guardian_link_versions (
    school_id    uuid   NOT NULL,
    guardian_id  uuid   NOT NULL,
    student_id   uuid   NOT NULL,
    version      bigint NOT NULL,
    CONSTRAINT guardian_link_versions_pkey PRIMARY KEY (school_id, guardian_id, student_id)
);
