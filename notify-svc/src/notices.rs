//! Notices to guardians from grade, invoice and payment events, and from the
//! daily overdue check: one notification per linked guardian, worded by the
//! school's template (or the built-in one), on the channels the guardian
//! opted into among those the kind goes out on.
//!
//! Every notice has a dedupe key naming what it is about, unique per
//! guardian, so a redelivered event, a re-publish or an edit never notifies
//! twice:
//!
//! | kind | dedupe key | channels |
//! |---|---|---|
//! | grades_published | `grades:<assessment>:<student>` | email, push (guardians); push (the student) |
//! | invoice_issued | `invoice_issued:<invoice>` | email, push |
//! | invoice_overdue | `invoice_overdue:<invoice>:<step days>` | sms, email, push |
//! | payment_receipt | `payment:<payment>` | email, push |
//!
//! A published grade also tells the graded student themself, when they have
//! a portal login (the event's `student_user_ids`): a notice with no
//! guardian, in their inbox and by push, deduped per student with the same
//! key. Its wording is built in ([`STUDENT_GRADE`]; schools override only
//! the guardians' wording).
//!
//! Each guardian's notice is worded in their preferred language (the guardian
//! events' `contact.language`) when the school has a template in it, else in
//! the school's language ([`DEFAULT_LANG`]: schools carry no language of
//! their own yet) when it has one there, else by the built-in English one.

use std::collections::HashMap;

use deadpool_postgres::Transaction;
use uuid::Uuid;

use crate::domain::{Grades, Invoice, Payment};
use crate::notifications::{Notification, COLUMNS};
use crate::templates::{domain::DEFAULT_LANG, money, points, repo, NoticeKind, Rendered, Template};

/// A guardian of a student, with the channels they want among `allowed`.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub student_id: Uuid,
    pub guardian_id: Uuid,
    pub user_id: Option<Uuid>,
    pub guardian_name: String,
    pub student_name: String,
    pub channels: Vec<String>,
    /// Their preferred language; `None`: the school's.
    pub lang: Option<String>,
}

/// The linked guardians of `students` (one statement), with their channels
/// narrowed to `allowed`.
pub async fn recipients(
    tx: &Transaction<'_>,
    school: Uuid,
    students: &[Uuid],
    allowed: &[&str],
) -> anyhow::Result<Vec<Recipient>> {
    if students.is_empty() {
        return Ok(Vec::new());
    }
    let stmt = tx
        .prepare_cached(
            "SELECT gs.student_id, g.guardian_id, g.user_id, \
               trim(g.given_name || ' ' || g.family_name), \
               COALESCE(s.given_name || ' ' || s.family_name, ''), \
               array_remove(ARRAY[ \
                 CASE WHEN g.notify_sms AND g.phone IS NOT NULL THEN 'sms' END, \
                 CASE WHEN g.notify_email AND g.email IS NOT NULL THEN 'email' END, \
                 CASE WHEN g.notify_push AND g.user_id IS NOT NULL THEN 'push' END], NULL), \
               g.lang \
             FROM guardian_students gs \
             JOIN guardians g ON g.school_id = gs.school_id AND g.guardian_id = gs.guardian_id \
             LEFT JOIN students s ON s.school_id = gs.school_id AND s.student_id = gs.student_id \
             WHERE gs.school_id = $1 AND gs.student_id = ANY($2) AND gs.linked",
        )
        .await?;
    let rows = tx.query(&stmt, &[&school, &students]).await?;
    rows.iter()
        .map(|r| {
            let channels: Vec<String> = r.try_get(5)?;
            let guardian_name: String = r.try_get(3)?;
            let student_name: String = r.try_get(4)?;
            Ok(Recipient {
                student_id: r.try_get(0)?,
                guardian_id: r.try_get(1)?,
                user_id: r.try_get(2)?,
                guardian_name: if guardian_name.is_empty() {
                    "parent or guardian".to_owned()
                } else {
                    guardian_name
                },
                student_name: if student_name.trim().is_empty() {
                    "your child".to_owned()
                } else {
                    student_name
                },
                channels: channels
                    .into_iter()
                    .filter(|c| allowed.contains(&c.as_str()))
                    .collect(),
                lang: r.try_get(6)?,
            })
        })
        .collect()
}

/// The school's name as projected ("" before its first event).
pub async fn school_name(tx: &Transaction<'_>, school: Uuid) -> anyhow::Result<String> {
    let stmt = tx
        .prepare_cached("SELECT name FROM schools WHERE school_id = $1")
        .await?;
    Ok(tx
        .query_opt(&stmt, &[&school])
        .await?
        .map(|r| r.try_get::<_, String>(0))
        .transpose()?
        .unwrap_or_default())
}

/// One notice to insert.
pub struct NewNotice {
    pub recipient: Recipient,
    pub rendered: Rendered,
    pub dedupe_key: String,
}

/// Renders `kind`'s template for a recipient in their language: the
/// school's override in that language, else in the school's language, else
/// the built-in one; the built-in one too if an override does not render (a
/// notice is never lost to a template).
pub struct Wording {
    kind: NoticeKind,
    /// The school's overrides of the kind, by language.
    overrides: HashMap<String, Template>,
}

impl Wording {
    pub async fn load(
        tx: &Transaction<'_>,
        school: Uuid,
        kind: NoticeKind,
    ) -> anyhow::Result<Self> {
        let overrides = repo::of_kind(tx, school, kind).await?;
        Ok(Self { kind, overrides })
    }

    /// The template a recipient preferring `lang` gets.
    fn template(&self, lang: Option<&str>) -> std::borrow::Cow<'_, Template> {
        lang.and_then(|l| self.overrides.get(l))
            .or_else(|| self.overrides.get(DEFAULT_LANG))
            .map_or_else(
                || std::borrow::Cow::Owned(self.kind.default_template()),
                std::borrow::Cow::Borrowed,
            )
    }

    pub fn render(&self, lang: Option<&str>, ctx: &serde_json::Value) -> anyhow::Result<Rendered> {
        match self.template(lang).render(ctx) {
            Ok(r) => Ok(r),
            Err(e) => {
                tracing::warn!(notice.kind = self.kind.as_str(), error = %e, "school template failed; using the built-in one");
                Ok(self.kind.default_template().render(ctx)?)
            }
        }
    }
}

/// Inserts the notices (one statement), skipping any whose guardian already
/// has its dedupe key; returns the rows created now.
pub async fn create(
    tx: &Transaction<'_>,
    school: Uuid,
    source: Uuid,
    kind: NoticeKind,
    notices: &[NewNotice],
) -> anyhow::Result<Vec<Notification>> {
    if notices.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "INSERT INTO notifications (school_id, guardian_id, recipient_user_id, student_id, kind, \
           title, body, channels, dedupe_key, source_event_id) \
         SELECT $1, g, u, s, $2, t, b, COALESCE(string_to_array(NULLIF(c, ''), ','), '{{}}'), d, $3 \
         FROM unnest($4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::text[], \
           $10::text[]) AS n(g, u, s, t, b, c, d) \
         ON CONFLICT (school_id, guardian_id, dedupe_key) DO NOTHING \
         RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let col = |f: &dyn Fn(&NewNotice) -> String| notices.iter().map(f).collect::<Vec<_>>();
    let guardians: Vec<Uuid> = notices.iter().map(|n| n.recipient.guardian_id).collect();
    let users: Vec<Option<Uuid>> = notices.iter().map(|n| n.recipient.user_id).collect();
    let students: Vec<Uuid> = notices.iter().map(|n| n.recipient.student_id).collect();
    let titles = col(&|n| n.rendered.subject.clone());
    let bodies = col(&|n| n.rendered.body.clone());
    let channels = col(&|n| n.recipient.channels.join(","));
    let keys = col(&|n| n.dedupe_key.clone());
    let rows = tx
        .query(
            &stmt,
            &[
                &school,
                &kind.as_str(),
                &source,
                &guardians,
                &users,
                &students,
                &titles,
                &bodies,
                &channels,
                &keys,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(Notification::from_row)
        .collect::<Result<_, _>>()?)
}

fn context(school_name: &str, r: &Recipient, extra: serde_json::Value) -> serde_json::Value {
    let mut ctx = serde_json::json!({
        "school_name": school_name,
        "guardian_name": r.guardian_name,
        "student_name": r.student_name,
    });
    if let (Some(o), serde_json::Value::Object(e)) = (ctx.as_object_mut(), extra) {
        o.extend(e);
    }
    ctx
}

/// The built-in wording of a student's own grade notice (subject, body).
pub const STUDENT_GRADE: (&str, &str) = (
    "New grade: {{ assessment }}",
    "Dear {{ student_name }},\n\nYou scored {{ score }} out of {{ max_score }} in \
     {{ assessment }}.\n\n{{ school_name }}",
);

/// `grades.published`: each graded student's guardians, and each graded
/// student with a login, once per assessment.
pub async fn grades_published(
    tx: &Transaction<'_>,
    school: Uuid,
    event_id: Uuid,
    g: &Grades,
) -> anyhow::Result<Vec<Notification>> {
    let students: Vec<Uuid> = g.scores.iter().map(|(s, _)| *s).collect();
    let recipients = recipients(tx, school, &students, &["email", "push"]).await?;
    if recipients.is_empty() && g.student_users.is_empty() {
        return Ok(Vec::new());
    }
    let scores: HashMap<Uuid, i64> = g.scores.iter().copied().collect();
    let school_name = school_name(tx, school).await?;
    let mut created = students_told(tx, school, event_id, g, &school_name).await?;
    if recipients.is_empty() {
        return Ok(created);
    }
    let wording = Wording::load(tx, school, NoticeKind::GradesPublished).await?;
    let mut notices = Vec::with_capacity(recipients.len());
    for r in recipients {
        let Some(score) = scores.get(&r.student_id) else {
            continue;
        };
        let ctx = context(
            &school_name,
            &r,
            serde_json::json!({
                "assessment": g.title,
                "score": points(*score),
                "max_score": points(g.max_score),
            }),
        );
        notices.push(NewNotice {
            rendered: wording.render(r.lang.as_deref(), &ctx)?,
            dedupe_key: format!("grades:{}:{}", g.assessment_id, r.student_id),
            recipient: r,
        });
    }
    created.extend(create(tx, school, event_id, NoticeKind::GradesPublished, &notices).await?);
    Ok(created)
}

/// The graded students with a login, each told of their own score (inbox
/// and push; one statement), skipping any who already have the notice.
async fn students_told(
    tx: &Transaction<'_>,
    school: Uuid,
    event_id: Uuid,
    g: &Grades,
    school_name: &str,
) -> anyhow::Result<Vec<Notification>> {
    let names_stmt = tx
        .prepare_cached(
            "SELECT student_id, trim(given_name || ' ' || family_name) FROM students \
             WHERE school_id = $1 AND student_id = ANY($2)",
        )
        .await?;
    let told: Vec<Uuid> = g
        .scores
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| g.student_users.contains_key(s))
        .collect();
    if told.is_empty() {
        return Ok(Vec::new());
    }
    let names: HashMap<Uuid, String> = tx
        .query(&names_stmt, &[&school, &told])
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()?;
    let template = Template {
        subject: STUDENT_GRADE.0.to_owned(),
        body: STUDENT_GRADE.1.to_owned(),
    };
    let (mut users, mut students, mut titles, mut bodies, mut keys) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (student, score) in &g.scores {
        let Some(user) = g.student_users.get(student) else {
            continue;
        };
        let name = names
            .get(student)
            .filter(|n| !n.is_empty())
            .cloned()
            .unwrap_or_else(|| "student".to_owned());
        let rendered = template.render(&serde_json::json!({
            "school_name": school_name,
            "student_name": name,
            "assessment": g.title,
            "score": points(*score),
            "max_score": points(g.max_score),
        }))?;
        users.push(*user);
        students.push(*student);
        titles.push(rendered.subject);
        bodies.push(rendered.body);
        keys.push(format!("grades:{}:{student}", g.assessment_id));
    }
    let sql = format!(
        "INSERT INTO notifications (school_id, guardian_id, recipient_user_id, student_id, kind, \
           title, body, channels, dedupe_key, source_event_id) \
         SELECT $1, NULL, u, s, $2, t, b, ARRAY['push'], d, $3 \
         FROM unnest($4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::text[]) \
           AS n(u, s, t, b, d) \
         ON CONFLICT (school_id, student_id, dedupe_key) WHERE guardian_id IS NULL DO NOTHING \
         RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let rows = tx
        .query(
            &stmt,
            &[
                &school,
                &NoticeKind::GradesPublished.as_str(),
                &event_id,
                &users,
                &students,
                &titles,
                &bodies,
                &keys,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(Notification::from_row)
        .collect::<Result<_, _>>()?)
}

/// `invoice.issued`: the student's guardians, once per invoice.
pub async fn invoice_issued(
    tx: &Transaction<'_>,
    school: Uuid,
    event_id: Uuid,
    i: &Invoice,
) -> anyhow::Result<Vec<Notification>> {
    let recipients = recipients(tx, school, &[i.student_id], &["email", "push"]).await?;
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let wording = Wording::load(tx, school, NoticeKind::InvoiceIssued).await?;
    let school_name = school_name(tx, school).await?;
    let extra = serde_json::json!({
        "total": money(i.total, &i.currency),
        "amount_due": money(i.amount_due, &i.currency),
        "currency": i.currency,
        "due_on": i.due_on.map(|d| d.to_string()).unwrap_or_default(),
    });
    let notices = recipients
        .into_iter()
        .map(|r| {
            Ok(NewNotice {
                rendered: wording
                    .render(r.lang.as_deref(), &context(&school_name, &r, extra.clone()))?,
                dedupe_key: format!("invoice_issued:{}", i.id),
                recipient: r,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    create(tx, school, event_id, NoticeKind::InvoiceIssued, &notices).await
}

/// `payment.recorded`: a receipt to the student's guardians, once per
/// payment.
pub async fn payment_receipt(
    tx: &Transaction<'_>,
    school: Uuid,
    event_id: Uuid,
    p: &Payment,
) -> anyhow::Result<Vec<Notification>> {
    let recipients = recipients(tx, school, &[p.student_id], &["email", "push"]).await?;
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let wording = Wording::load(tx, school, NoticeKind::PaymentReceipt).await?;
    let school_name = school_name(tx, school).await?;
    let extra = serde_json::json!({
        "amount": money(p.amount, &p.currency),
        "currency": p.currency,
        "method": p.method.replace('_', " "),
        "reference": if p.reference.is_empty() { "none" } else { p.reference.as_str() },
        "balance": money(p.invoice_amount_due, &p.currency),
    });
    let notices = recipients
        .into_iter()
        .map(|r| {
            Ok(NewNotice {
                rendered: wording
                    .render(r.lang.as_deref(), &context(&school_name, &r, extra.clone()))?,
                dedupe_key: format!("payment:{}", p.id),
                recipient: r,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    create(tx, school, event_id, NoticeKind::PaymentReceipt, &notices).await
}

/// An unpaid invoice past its due date, at reminder step `step` (days).
pub struct Overdue {
    pub invoice_id: Uuid,
    pub student_id: Uuid,
    pub currency: String,
    pub total: i64,
    pub amount_due: i64,
    pub due_on: chrono::NaiveDate,
    pub days_overdue: i64,
    pub step: i64,
}

/// Overdue reminders: the guardians of each invoice's student, once per
/// invoice and step. `source` is the check's job id.
pub async fn invoices_overdue(
    tx: &Transaction<'_>,
    school: Uuid,
    source: Uuid,
    overdue: &[Overdue],
) -> anyhow::Result<Vec<Notification>> {
    let students: Vec<Uuid> = overdue.iter().map(|o| o.student_id).collect();
    let recipients = recipients(tx, school, &students, &["sms", "email", "push"]).await?;
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let wording = Wording::load(tx, school, NoticeKind::InvoiceOverdue).await?;
    let school_name = school_name(tx, school).await?;
    let mut notices = Vec::new();
    for o in overdue {
        let extra = serde_json::json!({
            "total": money(o.total, &o.currency),
            "amount_due": money(o.amount_due, &o.currency),
            "currency": o.currency,
            "due_on": o.due_on.to_string(),
            "days_overdue": o.days_overdue,
        });
        for r in recipients.iter().filter(|r| r.student_id == o.student_id) {
            notices.push(NewNotice {
                rendered: wording
                    .render(r.lang.as_deref(), &context(&school_name, r, extra.clone()))?,
                dedupe_key: format!("invoice_overdue:{}:{}", o.invoice_id, o.step),
                recipient: r.clone(),
            });
        }
    }
    create(tx, school, source, NoticeKind::InvoiceOverdue, &notices).await
}
