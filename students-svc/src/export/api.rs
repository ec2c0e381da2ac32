//! `ExportService`: an admin of the school (analytics-svc calls as one)
//! streams its current state.

use platform::caller::Caller;
use proto::students::v1 as pb;
use std::pin::Pin;

use deadpool_postgres::Pool;
use futures::Stream;
use tonic::{Request, Response, Status};

use super::repo;
use crate::authz::admin_only;

#[derive(Clone)]
pub struct ExportApi {
    pool: Pool,
}

impl ExportApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl pb::export_service_server::ExportService for ExportApi {
    type ExportSchoolStream = Pin<Box<dyn Stream<Item = Result<pb::ExportBatch, Status>> + Send>>;

    async fn export_school(
        &self,
        req: Request<pb::ExportSchoolRequest>,
    ) -> Result<Response<Self::ExportSchoolStream>, Status> {
        let caller = Caller::of(&req)?;
        admin_only(&caller)?;
        // A few batches in flight: the export reads no faster than the
        // client takes it.
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match repo::export(&pool, caller.school_id, tx.clone()).await {
                Ok(n) => tracing::info!(
                    school.id = %caller.school_id,
                    events = n,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "school exported"
                ),
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                }
            }
        });
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|batch| (batch, rx))
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
