-- Fees: invoices with line items, payments with idempotency keys. Amounts are
-- bigint minor units. Every link is a composite foreign key on
-- (school_id, id), so a row can never point into another school.
-- The (school_id, id) keys of students and users come with 0003.

CREATE TABLE invoices (
    id           uuid PRIMARY KEY,
    school_id    uuid NOT NULL REFERENCES schools (id),
    student_id   uuid NOT NULL,
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status       text NOT NULL
                 CHECK (status IN ('draft', 'issued', 'partially_paid', 'paid', 'void')),
    total        bigint NOT NULL CHECK (total > 0 AND total <= 1000000000000),
    amount_paid  bigint NOT NULL DEFAULT 0 CHECK (amount_paid >= 0 AND amount_paid <= total),
    issued_on    date NOT NULL,
    due_on       date NOT NULL,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    voided_at    timestamptz,
    CONSTRAINT invoices_school_id_id_key UNIQUE (school_id, id),
    CONSTRAINT invoices_student_fk FOREIGN KEY (school_id, student_id)
        REFERENCES students (school_id, id),
    CONSTRAINT invoices_due_after_issue CHECK (due_on >= issued_on),
    -- Status and money agree: paid means nothing due, partially paid means
    -- something paid and something due, the others mean nothing paid.
    CONSTRAINT invoices_status_amounts CHECK (
        CASE status
            WHEN 'paid' THEN amount_paid = total
            WHEN 'partially_paid' THEN amount_paid > 0 AND amount_paid < total
            ELSE amount_paid = 0
        END),
    CONSTRAINT invoices_voided_at CHECK ((status = 'void') = (voided_at IS NOT NULL))
);

-- Lists are newest first (ids are UUIDv7) and keyset-paginated on id:
-- invoices_school_id_id_key serves the unfiltered list; these serve the
-- student and status filters (and the balance, by student) in id order.
CREATE INDEX invoices_by_student ON invoices (school_id, student_id, id);
CREATE INDEX invoices_by_status ON invoices (school_id, status, id);

CREATE TABLE invoice_lines (
    school_id    uuid NOT NULL,
    invoice_id   uuid NOT NULL,
    line_no      smallint NOT NULL CHECK (line_no BETWEEN 1 AND 100),
    description  text NOT NULL CHECK (char_length(description) BETWEEN 1 AND 200),
    quantity     integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_amount  bigint NOT NULL CHECK (unit_amount > 0),
    amount       bigint NOT NULL CHECK (amount > 0),
    PRIMARY KEY (school_id, invoice_id, line_no),
    CONSTRAINT invoice_lines_invoice_fk FOREIGN KEY (school_id, invoice_id)
        REFERENCES invoices (school_id, id) ON DELETE CASCADE,
    CONSTRAINT invoice_lines_amount CHECK (amount = quantity * unit_amount)
);

CREATE TABLE payments (
    id               uuid PRIMARY KEY,
    school_id        uuid NOT NULL,
    invoice_id       uuid NOT NULL,
    amount           bigint NOT NULL CHECK (amount > 0),
    currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    method           text NOT NULL CHECK (method IN ('cash', 'card', 'bank_transfer', 'online')),
    reference        text,
    -- What the invoice still owed right after this payment (receipts, replays).
    amount_due_after bigint NOT NULL CHECK (amount_due_after >= 0),
    idempotency_key  text NOT NULL CHECK (idempotency_key ~ '^[!-~]{1,255}$'),
    -- SHA-256 of the canonical request: a reused key must carry the same one.
    request_hash     bytea NOT NULL,
    recorded_by      uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_idempotency_key UNIQUE (school_id, idempotency_key),
    CONSTRAINT payments_invoice_fk FOREIGN KEY (school_id, invoice_id)
        REFERENCES invoices (school_id, id)
);

-- An invoice's payments in order (and "has it any payments?" for void).
CREATE INDEX payments_by_invoice ON payments (school_id, invoice_id, id);
