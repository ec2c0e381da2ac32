//! The projection of guardians (contacts, preferences, language), their
//! links, students (name, grade level, standing), courses' teachers,
//! enrolments, schools (name, time zone) and invoices, written on
//! the consumer's transaction. Snapshots carry students-svc's version, so a
//! redelivered or reordered older snapshot never overwrites a newer one.

use deadpool_postgres::Transaction;
use uuid::Uuid;

use crate::domain::{
    Contact, Course, Enrolment, Guardian, Invoice, Link, Payment, School, Student,
};

/// The guardian as of its snapshot (newer versions win).
pub async fn guardian(tx: &Transaction<'_>, school: Uuid, g: &Guardian) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO guardians (school_id, guardian_id, given_name, family_name, phone, email, \
               notify_sms, notify_email, notify_push, user_id, version, lang) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (school_id, guardian_id) DO UPDATE SET \
               given_name = EXCLUDED.given_name, family_name = EXCLUDED.family_name, \
               phone = EXCLUDED.phone, email = EXCLUDED.email, notify_sms = EXCLUDED.notify_sms, \
               notify_email = EXCLUDED.notify_email, notify_push = EXCLUDED.notify_push, \
               user_id = EXCLUDED.user_id, version = EXCLUDED.version, lang = EXCLUDED.lang \
             WHERE guardians.version < EXCLUDED.version",
        )
        .await?;
    let c = &g.contact;
    tx.execute(
        &stmt,
        &[
            &school,
            &g.id,
            &g.given_name,
            &g.family_name,
            &c.phone,
            &c.email,
            &c.sms,
            &c.email_wanted,
            &c.push,
            &c.user_id,
            &g.version,
            &c.language,
        ],
    )
    .await?;
    Ok(())
}

/// Links a guardian to a student. A link seen before its guardian's
/// snapshot (a retried snapshot) records the link's contact at version 0.
pub async fn link(tx: &Transaction<'_>, school: Uuid, l: &Link) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "WITH guardian AS ( \
               INSERT INTO guardians (school_id, guardian_id, phone, email, notify_sms, \
                 notify_email, notify_push, user_id, version, lang) \
               VALUES ($1, $2, $5, $6, $7, $8, $9, $10, 0, $13) \
               ON CONFLICT (school_id, guardian_id) DO NOTHING) \
             INSERT INTO guardian_students (school_id, student_id, guardian_id, relationship, \
               is_primary, version, linked) \
             VALUES ($1, $3, $2, $4, $11, $12, true) \
             ON CONFLICT (school_id, student_id, guardian_id) DO UPDATE SET \
               relationship = EXCLUDED.relationship, is_primary = EXCLUDED.is_primary, \
               version = EXCLUDED.version, linked = true \
             WHERE guardian_students.version < EXCLUDED.version \
                OR (EXCLUDED.version = 0 AND guardian_students.version = 0)",
        )
        .await?;
    let Contact {
        phone,
        email,
        sms,
        email_wanted,
        push,
        user_id,
        language,
    } = &l.contact;
    tx.execute(
        &stmt,
        &[
            &school,
            &l.guardian_id,
            &l.student_id,
            &l.relationship,
            phone,
            email,
            sms,
            email_wanted,
            push,
            user_id,
            &l.is_primary,
            &l.version,
            language,
        ],
    )
    .await?;
    Ok(())
}

pub async fn unlink(tx: &Transaction<'_>, school: Uuid, l: &Link) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "WITH guardian AS ( \
               INSERT INTO guardians (school_id, guardian_id, phone, email, notify_sms, \
                 notify_email, notify_push, user_id, version) \
               VALUES ($1, $3, NULL, NULL, false, false, false, NULL, 0) \
               ON CONFLICT (school_id, guardian_id) DO NOTHING) \
             INSERT INTO guardian_students AS gs (school_id, student_id, guardian_id, \
               relationship, is_primary, version, linked) \
             VALUES ($1, $2, $3, $4, false, $5, false) \
             ON CONFLICT (school_id, student_id, guardian_id) DO UPDATE SET \
               version = EXCLUDED.version, linked = false \
             WHERE gs.version < EXCLUDED.version \
                OR (EXCLUDED.version = 0 AND gs.version = 0)",
        )
        .await?;
    // A tombstone: an older link event arriving later finds a newer version
    // here and changes nothing.
    tx.execute(
        &stmt,
        &[
            &school,
            &l.student_id,
            &l.guardian_id,
            &l.relationship,
            &l.version,
        ],
    )
    .await?;
    Ok(())
}

/// The student as of its snapshot (newer versions win).
pub async fn student(tx: &Transaction<'_>, school: Uuid, s: &Student) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO students (school_id, student_id, given_name, family_name, version, \
               grade_level, active) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (school_id, student_id) DO UPDATE SET \
               given_name = EXCLUDED.given_name, family_name = EXCLUDED.family_name, \
               version = EXCLUDED.version, grade_level = EXCLUDED.grade_level, \
               active = EXCLUDED.active \
             WHERE students.version < EXCLUDED.version",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &school,
            &s.id,
            &s.given_name,
            &s.family_name,
            &s.version,
            &s.grade_level,
            &s.active,
        ],
    )
    .await?;
    Ok(())
}

/// The course's teacher as of its snapshot (newer versions win).
pub async fn course(tx: &Transaction<'_>, school: Uuid, c: &Course) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO courses (school_id, course_id, teacher_id, version) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (school_id, course_id) DO UPDATE SET \
               teacher_id = EXCLUDED.teacher_id, version = EXCLUDED.version \
             WHERE courses.version < EXCLUDED.version",
        )
        .await?;
    tx.execute(&stmt, &[&school, &c.id, &c.teacher_id, &c.version])
        .await?;
    Ok(())
}

/// The enrolment as of its event (a withdrawal, version 2, wins over the
/// enrolment, version 1, in any order).
pub async fn enrolment(tx: &Transaction<'_>, school: Uuid, e: &Enrolment) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO enrolments (school_id, enrolment_id, course_id, student_id, enrolled, \
               version) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (school_id, enrolment_id) DO UPDATE SET \
               enrolled = EXCLUDED.enrolled, version = EXCLUDED.version \
             WHERE enrolments.version < EXCLUDED.version",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &school,
            &e.id,
            &e.course_id,
            &e.student_id,
            &e.enrolled,
            &e.version,
        ],
    )
    .await?;
    Ok(())
}

/// The school's name and time zone as of its snapshot (newer versions win).
pub async fn school(tx: &Transaction<'_>, school: Uuid, s: &School) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO schools (school_id, name, time_zone, version) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (school_id) DO UPDATE SET name = EXCLUDED.name, \
               time_zone = EXCLUDED.time_zone, version = EXCLUDED.version \
             WHERE schools.version < EXCLUDED.version",
        )
        .await?;
    tx.execute(&stmt, &[&school, &s.name, &s.time_zone, &s.version])
        .await?;
    Ok(())
}

/// The invoice as of its snapshot (newer versions win).
pub async fn invoice(tx: &Transaction<'_>, school: Uuid, i: &Invoice) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO invoices (school_id, invoice_id, student_id, currency, total, \
               amount_paid, amount_due, status, due_on, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (school_id, invoice_id) DO UPDATE SET student_id = EXCLUDED.student_id, \
               currency = EXCLUDED.currency, total = EXCLUDED.total, \
               amount_paid = EXCLUDED.amount_paid, amount_due = EXCLUDED.amount_due, \
               status = EXCLUDED.status, due_on = EXCLUDED.due_on, version = EXCLUDED.version \
             WHERE invoices.version < EXCLUDED.version",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &school,
            &i.id,
            &i.student_id,
            &i.currency,
            &i.total,
            &i.amount_paid,
            &i.amount_due,
            &i.status,
            &i.due_on,
            &i.version,
        ],
    )
    .await?;
    Ok(())
}

/// A payment moves its invoice's amounts and status (the invoice's version
/// after the payment; an invoice not seen yet waits for its snapshot).
pub async fn payment(tx: &Transaction<'_>, school: Uuid, p: &Payment) -> anyhow::Result<()> {
    let stmt = tx
        .prepare_cached(
            "UPDATE invoices SET total = $3, amount_paid = $4, amount_due = $5, status = $6, \
               version = $7 \
             WHERE school_id = $1 AND invoice_id = $2 AND version < $7",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &school,
            &p.invoice_id,
            &p.invoice_total,
            &p.invoice_amount_paid,
            &p.invoice_amount_due,
            &p.invoice_status,
            &p.invoice_version,
        ],
    )
    .await?;
    Ok(())
}
