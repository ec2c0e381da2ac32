//! A school's settings (SchoolChanged): slug, name, time zone and school
//! year start, newest version wins. Facts already stored are not moved when
//! the zone changes (a payment's month was its zone's at the time); a
//! rebuild re-buckets them.

use deadpool_postgres::Transaction;
use proto::events::v1::SchoolChanged;
use uuid::Uuid;

pub async fn apply(tx: &Transaction<'_>, school: Uuid, s: &SchoolChanged) -> anyhow::Result<()> {
    let zone = if s.time_zone.is_empty() {
        "UTC"
    } else {
        s.time_zone.as_str()
    };
    let month = i16::try_from(s.year_start_month)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .unwrap_or(9);
    let day = i16::try_from(s.year_start_day)
        .ok()
        .filter(|d| (1..=31).contains(d))
        .unwrap_or(1);
    let stmt = tx
        .prepare_cached(
            "INSERT INTO schools (school_id, slug, name, time_zone, year_start_month, \
               year_start_day, version) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (school_id) DO UPDATE SET slug = EXCLUDED.slug, name = EXCLUDED.name, \
               time_zone = EXCLUDED.time_zone, year_start_month = EXCLUDED.year_start_month, \
               year_start_day = EXCLUDED.year_start_day, version = EXCLUDED.version \
             WHERE schools.version < EXCLUDED.version",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &school,
            &s.slug,
            &s.name,
            &zone,
            &month,
            &day,
            &s.version.max(1),
        ],
    )
    .await?;
    Ok(())
}
