//! The export read from students-svc: `ExportSchool` called as an admin of
//! the school (the caller metadata the gateway would write; the operator
//! has no user of the school, so the user id is nil).

use std::time::Duration;

use futures::{stream::BoxStream, StreamExt};
use platform::caller::{Caller, Role};
use platform::trust::{ServiceKey, Signed};
use proto::{events::v1::Event, students::v1 as students};
use tonic::transport::Channel;
use uuid::Uuid;

use super::Source;

#[derive(Clone)]
pub struct StudentsExport {
    channel: Signed<Channel>,
    timeout: Duration,
}

impl StudentsExport {
    /// A lazily connecting client: analytics-svc starts without students-svc.
    pub fn new(
        url: &str,
        timeout: Duration,
        key: ServiceKey,
        tls: Option<&tonic::transport::ClientTlsConfig>,
    ) -> anyhow::Result<Self> {
        let channel = platform::grpc::endpoint(
            url,
            platform::grpc::ClientTimeouts {
                connect: Duration::from_secs(5),
                request: timeout,
            },
            tls,
        )?
        .connect_lazy();
        Ok(Self {
            channel: Signed::new(channel, key),
            timeout,
        })
    }
}

impl Source for StudentsExport {
    async fn export(
        &self,
        school: Uuid,
    ) -> Result<BoxStream<'static, Result<Vec<Event>, tonic::Status>>, tonic::Status> {
        let mut client =
            students::export_service_client::ExportServiceClient::new(self.channel.clone())
                .max_decoding_message_size(64 * 1024 * 1024);
        let mut req = tonic::Request::new(students::ExportSchoolRequest {});
        req.set_timeout(self.timeout);
        Caller {
            school_id: school,
            user_id: Uuid::nil(),
            role: Role::Admin,
            student_id: None,
        }
        .write(req.metadata_mut());
        let stream = client.export_school(req).await?.into_inner();
        Ok(stream.map(|b| b.map(|b| b.events)).boxed())
    }
}
