-- Report cards: one student's term as a PDF, rendered by a `report_card`
-- job from analytics-svc's student summary. The PDF is kept here (bytea,
-- behind the `report_cards::store::PdfStore` trait): a card is a few KB,
-- read rarely, and one database to back up is simpler than a bucket.
-- A grade level's cards form a batch, whose progress is a grouped count.
CREATE TABLE report_card_batches (
    id            uuid PRIMARY KEY,
    school_id     uuid NOT NULL,
    term          text NOT NULL CHECK (term ~ '^[0-9]{4}-T[1-6]$'),
    grade_level   integer NOT NULL CHECK (grade_level BETWEEN 0 AND 12),
    requested_by  uuid NOT NULL,
    total         integer NOT NULL CHECK (total >= 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_card_batches_by_school ON report_card_batches (school_id, id);

CREATE TABLE report_cards (
    id            uuid PRIMARY KEY,
    school_id     uuid NOT NULL,
    student_id    uuid NOT NULL,
    term          text NOT NULL CHECK (term ~ '^[0-9]{4}-T[1-6]$'),
    batch_id      uuid REFERENCES report_card_batches ON DELETE CASCADE,
    requested_by  uuid NOT NULL,
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'ready', 'failed')),
    -- Short, free of personal data (a status code or a reason).
    error         text CHECK (length(error) <= 300),
    render_ms     integer CHECK (render_ms >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    rendered_at   timestamptz,
    CONSTRAINT report_cards_ready_iff_rendered CHECK ((status = 'queued') = (rendered_at IS NULL))
);
CREATE INDEX report_cards_by_school ON report_cards (school_id, id);
CREATE INDEX report_cards_by_batch ON report_cards (batch_id, status) WHERE batch_id IS NOT NULL;

-- The files, apart from their metadata, so status reads never touch them.
CREATE TABLE report_card_pdfs (
    card_id    uuid PRIMARY KEY REFERENCES report_cards ON DELETE CASCADE,
    school_id  uuid NOT NULL,
    pdf        bytea NOT NULL CHECK (length(pdf) BETWEEN 1 AND 10485760)
);

ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('sms', 'push', 'email', 'invoice_reminders', 'announcement', 'report_card'));
