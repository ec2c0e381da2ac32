//! One WebSocket's life after the upgrade. The server only pushes: client
//! text and binary frames are ignored (they still count as signs of life),
//! pings are answered, and a client must answer the server's pings.
//!
//! Close codes: 1000 after the client closed, 1001 at server shutdown, 1002
//! on a protocol error, 1009 for a client frame over the size limit, 1013 for
//! a client too slow to take its messages (reconnect and catch up through the
//! API), 4001 when the token expired (re-authenticate), 4002 when the client
//! stopped answering pings.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_ws::{CloseCode, CloseReason, Message, MessageStream, ProtocolError, Session};
use tokio::time::{sleep_until, Instant};

use super::{
    stats::{Reason, Stats},
    Membership,
};

/// A close frame reaches a client that reads; one that doesn't is dropped
/// after this.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug)]
pub struct SocketSettings {
    pub ping_interval: Duration,
    pub pong_timeout: Duration,
    pub send_queue: usize,
    pub max_client_frame_bytes: usize,
}

// Declared in `stats` (which counts them); what each sends is socket work.
impl Reason {
    /// The close frame the server sends, if any.
    fn close_frame(self) -> Option<CloseReason> {
        let (code, description) = match self {
            Self::ClientGone => return None,
            Self::ClientClosed => (CloseCode::Normal, None),
            Self::Shutdown => (CloseCode::Away, Some("server shutting down")),
            Self::ProtocolError => (CloseCode::Protocol, Some("protocol error")),
            Self::MessageTooBig => (CloseCode::Size, Some("frame too large")),
            Self::SlowConsumer => (CloseCode::Again, Some("too slow; reconnect and catch up")),
            Self::TokenExpired => (CloseCode::Other(4001), Some("token expired")),
            Self::HeartbeatTimeout => (CloseCode::Other(4002), Some("no pong")),
        };
        Some(CloseReason {
            code,
            description: description.map(str::to_owned),
        })
    }
}

/// Serves one socket until it ends, then closes it with the right frame and
/// leaves the hub (dropping `member`).
pub async fn run(
    mut session: Session,
    mut stream: MessageStream,
    mut member: Membership,
    token_expires_at: u64,
) {
    let reason = serve(&mut session, &mut stream, &mut member, token_expires_at).await;
    member.hub.stats.disconnected(reason);
    tracing::debug!(websocket.reason = reason.name(), "websocket closed");
    if let Some(frame) = reason.close_frame() {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, session.close(Some(frame))).await;
    }
}

async fn serve(
    session: &mut Session,
    stream: &mut MessageStream,
    member: &mut Membership,
    token_expires_at: u64,
) -> Reason {
    let hub = member.hub.clone();
    let settings = hub.settings;
    let silence_limit = settings.ping_interval + settings.pong_timeout;
    let expiry = sleep_until(instant_of(token_expires_at));
    let silence = tokio::time::sleep(silence_limit);
    tokio::pin!(expiry, silence);
    let mut ping = tokio::time::interval_at(
        Instant::now() + settings.ping_interval,
        settings.ping_interval,
    );
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = member.stop.clone();
    let stopped = || {
        if hub.shutdown.is_cancelled() {
            Reason::Shutdown
        } else {
            Reason::SlowConsumer
        }
    };
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return stopped(),
            () = &mut expiry => return Reason::TokenExpired,
            () = &mut silence => return Reason::HeartbeatTimeout,
            frame = stream.recv() => {
                silence.as_mut().reset(Instant::now() + silence_limit);
                match frame {
                    Some(Ok(Message::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            return Reason::ClientGone;
                        }
                    }
                    Some(Ok(Message::Close(_))) => return Reason::ClientClosed,
                    // Pongs and ignored data frames: signs of life only.
                    Some(Ok(_)) => {}
                    Some(Err(ProtocolError::Overflow)) => return Reason::MessageTooBig,
                    // The connection failed or ended mid-frame (not bad
                    // UTF-8, which the codec also reports as I/O).
                    Some(Err(ProtocolError::Io(e))) if e.kind() != std::io::ErrorKind::InvalidData => {
                        return Reason::ClientGone
                    }
                    Some(Err(_)) => return Reason::ProtocolError,
                    None => return Reason::ClientGone,
                }
            }
            _ = ping.tick() => {
                tokio::select! {
                    biased;
                    () = stop.cancelled() => return stopped(),
                    r = session.ping(b"") => if r.is_err() { return Reason::ClientGone },
                }
            }
            text = member.queue.recv() => {
                let Some(text) = text else { return stopped() };
                // A client that does not read blocks this write; its queue
                // then fills and the router cancels `stop`.
                tokio::select! {
                    biased;
                    () = stop.cancelled() => return stopped(),
                    r = session.text(text) => if r.is_err() { return Reason::ClientGone },
                }
                Stats::bump(&hub.stats.sent);
            }
        }
    }
}

/// The monotonic instant of a Unix time in seconds (now if it is past).
fn instant_of(unix_secs: u64) -> Instant {
    let left = (UNIX_EPOCH + Duration::from_secs(unix_secs))
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + left
}
