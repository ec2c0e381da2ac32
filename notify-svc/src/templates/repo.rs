//! Template statements, every one scoped to the school.

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::domain::{Lang, NoticeKind, Template};
use super::model::Stored;

/// The school's override of (kind, lang), if any.
pub async fn find<C: GenericClient>(
    client: &C,
    school: Uuid,
    kind: NoticeKind,
    lang: &Lang,
) -> Result<Option<Stored>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT subject, body, updated_at FROM notification_templates \
             WHERE school_id = $1 AND kind = $2 AND lang = $3",
        )
        .await?;
    let row = client
        .query_opt(&stmt, &[&school, &kind.as_str(), &lang.as_str()])
        .await?;
    row.map(|r| {
        Ok(Stored {
            kind,
            lang: lang.clone(),
            template: Template {
                subject: r.try_get(0)?,
                body: r.try_get(1)?,
            },
            updated_at: Some(r.try_get(2)?),
        })
    })
    .transpose()
}

/// The school's overrides of `kind` in every language it has one in.
pub async fn of_kind<C: GenericClient>(
    client: &C,
    school: Uuid,
    kind: NoticeKind,
) -> Result<std::collections::HashMap<String, Template>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT lang, subject, body FROM notification_templates \
             WHERE school_id = $1 AND kind = $2",
        )
        .await?;
    client
        .query(&stmt, &[&school, &kind.as_str()])
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                Template {
                    subject: r.try_get(1)?,
                    body: r.try_get(2)?,
                },
            ))
        })
        .collect()
}

/// Inserts or replaces the school's override.
pub async fn save<C: GenericClient>(
    client: &C,
    school: Uuid,
    user: Uuid,
    kind: NoticeKind,
    lang: &Lang,
    t: &Template,
) -> Result<Stored, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO notification_templates (school_id, kind, lang, subject, body, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (school_id, kind, lang) DO UPDATE SET subject = EXCLUDED.subject, \
               body = EXCLUDED.body, updated_by = EXCLUDED.updated_by, updated_at = now() \
             RETURNING updated_at",
        )
        .await?;
    let row = client
        .query_one(
            &stmt,
            &[
                &school,
                &kind.as_str(),
                &lang.as_str(),
                &t.subject,
                &t.body,
                &user,
            ],
        )
        .await?;
    Ok(Stored {
        kind,
        lang: lang.clone(),
        template: t.clone(),
        updated_at: Some(row.try_get(0)?),
    })
}
