//! Where the PDFs live. Behind a trait so an object store (S3 and the like)
//! can replace the Postgres table without touching the job or the API; the
//! Postgres implementation keeps them in `notify.report_card_pdfs` (bytea,
//! apart from the card rows so status reads never load them).

use deadpool_postgres::Pool;
use futures::future::BoxFuture;
use platform::db::timed;
use uuid::Uuid;

pub trait PdfStore: Send + Sync {
    /// Stores (or replaces: a re-run job writes again) card `card`'s PDF.
    fn put<'a>(
        &'a self,
        school: Uuid,
        card: Uuid,
        pdf: &'a [u8],
    ) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Card `card`'s PDF in `school`, if stored.
    fn get(&self, school: Uuid, card: Uuid) -> BoxFuture<'_, anyhow::Result<Option<Vec<u8>>>>;
}

/// PDFs in Postgres.
#[derive(Clone)]
pub struct PgPdfStore {
    pool: Pool,
}

impl PgPdfStore {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

impl PdfStore for PgPdfStore {
    fn put<'a>(
        &'a self,
        school: Uuid,
        card: Uuid,
        pdf: &'a [u8],
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let db = self.pool.get().await?;
            let stmt = db
                .prepare_cached(
                    "INSERT INTO report_card_pdfs (card_id, school_id, pdf) VALUES ($1, $2, $3) \
                     ON CONFLICT (card_id) DO UPDATE SET pdf = EXCLUDED.pdf",
                )
                .await?;
            timed(
                "report_card_pdf_put",
                db.execute(&stmt, &[&card, &school, &pdf]),
            )
            .await?;
            Ok(())
        })
    }

    fn get(&self, school: Uuid, card: Uuid) -> BoxFuture<'_, anyhow::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            let db = self.pool.get().await?;
            let stmt = db
                .prepare_cached(
                    "SELECT pdf FROM report_card_pdfs WHERE card_id = $1 AND school_id = $2",
                )
                .await?;
            let row = timed(
                "report_card_pdf_get",
                db.query_opt(&stmt, &[&card, &school]),
            )
            .await?;
            Ok(row.map(|r| r.try_get(0)).transpose()?)
        })
    }
}
