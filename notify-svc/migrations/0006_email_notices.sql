-- E-mail is a delivery channel (jobs of kind `email`), and the scheduled
-- daily check of overdue invoices is a job too (`invoice_reminders`, one
-- per school and day, due at the school's local check time).
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('sms', 'push', 'email', 'invoice_reminders'));

-- The notices besides absences. Each has its dedupe key (see
-- src/notices.rs), so a redelivered or re-published event never notifies
-- a guardian twice.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('absence', 'grades_published', 'invoice_issued', 'invoice_overdue',
                    'payment_receipt'));

-- The school's name and IANA time zone (school.created / school.updated,
-- newest version wins): "today" for overdue reminders is the school's.
CREATE TABLE schools (
    school_id  uuid PRIMARY KEY,
    name       text NOT NULL,
    time_zone  text NOT NULL,
    version    bigint NOT NULL
);

-- Invoices as last seen (invoice.* and payment.recorded, newest version
-- wins): what the daily overdue check reads.
CREATE TABLE invoices (
    school_id    uuid NOT NULL,
    invoice_id   uuid NOT NULL,
    student_id   uuid NOT NULL,
    currency     text NOT NULL,
    total        bigint NOT NULL,
    amount_paid  bigint NOT NULL,
    amount_due   bigint NOT NULL,
    status       text NOT NULL,
    due_on       date,
    version      bigint NOT NULL,
    PRIMARY KEY (school_id, invoice_id)
);
-- The overdue check: a school's unpaid invoices by due date.
CREATE INDEX invoices_unpaid_due ON invoices (school_id, due_on)
    WHERE status IN ('issued', 'partially_paid') AND amount_due > 0;

-- A school's own wording of a notice, per kind and language; the built-in
-- English set applies where a school has none.
CREATE TABLE notification_templates (
    school_id   uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('grades_published', 'invoice_issued',
                                              'invoice_overdue', 'payment_receipt')),
    lang        text NOT NULL CHECK (lang ~ '^[a-z]{2}$'),
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  uuid NOT NULL,
    PRIMARY KEY (school_id, kind, lang)
);
