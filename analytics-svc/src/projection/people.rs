//! Students (names, grade, section, whether active), logins (staff count),
//! guardians' portal logins and their links to students.

use deadpool_postgres::Transaction;
use proto::events::v1::{GuardianChanged, GuardianLinked, StudentChanged, UserCreated};
use uuid::Uuid;

use super::risk;
use crate::domain::{id, opt_id, Risk};

/// A student snapshot: replaces an older one, moving the active count of
/// its old and new grade/section, then re-judges the student's risk (a
/// student who leaves leaves the early-warning list).
pub async fn student(
    tx: &Transaction<'_>,
    school: Uuid,
    s: &StudentChanged,
    t: &Risk,
) -> anyhow::Result<()> {
    let student = id("student_id", &s.student_id)?;
    let active = s.status == "active" && !s.archived;
    let old = tx
        .prepare_cached(
            "SELECT grade_level, section, active, version FROM students \
             WHERE school_id = $1 AND student_id = $2",
        )
        .await?;
    let old = tx.query_opt(&old, &[&school, &student]).await?;
    let old: Option<(i32, String, bool, i64)> = match old {
        Some(r) => Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)),
        None => None,
    };
    if old.as_ref().is_some_and(|o| o.3 >= s.version) {
        return Ok(());
    }
    let put = tx
        .prepare_cached(
            "INSERT INTO students (school_id, student_id, given_name, family_name, grade_level, \
               section, active, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (school_id, student_id) DO UPDATE SET given_name = EXCLUDED.given_name, \
               family_name = EXCLUDED.family_name, grade_level = EXCLUDED.grade_level, \
               section = EXCLUDED.section, active = EXCLUDED.active, version = EXCLUDED.version",
        )
        .await?;
    tx.execute(
        &put,
        &[
            &school,
            &student,
            &s.given_name,
            &s.family_name,
            &s.grade_level,
            &s.section,
            &active,
            &s.version,
        ],
    )
    .await?;
    let was = old.filter(|o| o.2).map(|o| (o.0, o.1));
    let now = active.then(|| (s.grade_level, s.section.clone()));
    if was != now {
        let section = tx
            .prepare_cached(
                "INSERT INTO grade_sections (school_id, grade_level, section, students) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (school_id, grade_level, section) \
                 DO UPDATE SET students = grade_sections.students + EXCLUDED.students",
            )
            .await?;
        let total = tx
            .prepare_cached(
                "INSERT INTO schools (school_id, active_students) VALUES ($1, $2) \
                 ON CONFLICT (school_id) DO UPDATE \
                   SET active_students = schools.active_students + EXCLUDED.active_students",
            )
            .await?;
        let mut delta = 0;
        if let Some((grade, sec)) = &was {
            tx.execute(&section, &[&school, grade, sec, &-1i32]).await?;
            delta -= 1;
        }
        if let Some((grade, sec)) = &now {
            tx.execute(&section, &[&school, grade, sec, &1i32]).await?;
            delta += 1;
        }
        if delta != 0 {
            tx.execute(&total, &[&school, &delta]).await?;
        }
    }
    risk::refresh(tx, school, &[student], t).await
}

/// A login: staff (admins and teachers) are counted once.
pub async fn user(tx: &Transaction<'_>, school: Uuid, u: &UserCreated) -> anyhow::Result<()> {
    let user = id("user_id", &u.user_id)?;
    let stmt = tx
        .prepare_cached(
            "WITH new AS (INSERT INTO users (school_id, user_id, role) VALUES ($1, $2, $3) \
               ON CONFLICT DO NOTHING RETURNING role) \
             INSERT INTO schools (school_id, staff) \
             SELECT $1, 1 WHERE EXISTS (SELECT 1 FROM new WHERE role IN ('admin', 'teacher')) \
             ON CONFLICT (school_id) DO UPDATE SET staff = schools.staff + 1",
        )
        .await?;
    tx.execute(&stmt, &[&school, &user, &u.role]).await?;
    Ok(())
}

/// A guardian snapshot: its portal login (newest version wins).
pub async fn guardian(
    tx: &Transaction<'_>,
    school: Uuid,
    g: &GuardianChanged,
) -> anyhow::Result<()> {
    let guardian = id("guardian_id", &g.guardian_id)?;
    let login = match &g.contact {
        Some(c) => opt_id("contact.user_id", &c.user_id)?,
        None => None,
    };
    let stmt = tx
        .prepare_cached(
            "INSERT INTO guardians (school_id, guardian_id, user_id, version) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (school_id, guardian_id) DO UPDATE SET user_id = EXCLUDED.user_id, \
               version = EXCLUDED.version WHERE guardians.version < EXCLUDED.version",
        )
        .await?;
    tx.execute(&stmt, &[&school, &guardian, &login, &g.version])
        .await?;
    Ok(())
}

/// A link or unlink, newest link version wins. A link seen before its
/// guardian's snapshot records the link's login at version 0 (the snapshot
/// replaces it).
pub async fn link(
    tx: &Transaction<'_>,
    school: Uuid,
    l: &GuardianLinked,
    linked: bool,
) -> anyhow::Result<()> {
    let guardian = id("guardian_id", &l.guardian_id)?;
    let student = id("student_id", &l.student_id)?;
    let login = match &l.contact {
        Some(c) => opt_id("contact.user_id", &c.user_id)?,
        None => None,
    };
    let stmt = tx
        .prepare_cached(
            "WITH g AS (INSERT INTO guardians (school_id, guardian_id, user_id, version) \
               VALUES ($1, $2, $4, 0) ON CONFLICT (school_id, guardian_id) DO UPDATE \
               SET user_id = coalesce(guardians.user_id, EXCLUDED.user_id) \
               WHERE guardians.version = 0) \
             INSERT INTO guardian_links (school_id, student_id, guardian_id, linked, version) \
             VALUES ($1, $3, $2, $5, $6) ON CONFLICT (school_id, student_id, guardian_id) DO UPDATE \
             SET linked = EXCLUDED.linked, version = EXCLUDED.version \
             WHERE guardian_links.version < EXCLUDED.version \
                OR (guardian_links.version = 0 AND EXCLUDED.version = 0)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[&school, &guardian, &student, &login, &linked, &l.version],
    )
    .await?;
    Ok(())
}
