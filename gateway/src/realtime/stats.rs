//! WebSocket counters per instance, rendered on the admin `/metrics` beside
//! the process-wide recorder's series (tests run many instances in one
//! process and read their own).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Why a socket ended: `websocket_disconnects_total{reason}`. Declared
/// here, with the counters keyed by it, so that the counters need not know
/// the socket (which closes with `Reason::close_frame`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    ClientClosed,
    /// The connection ended without a close frame.
    ClientGone,
    HeartbeatTimeout,
    TokenExpired,
    SlowConsumer,
    Shutdown,
    MessageTooBig,
    ProtocolError,
}

impl Reason {
    pub const ALL: [Self; 8] = [
        Self::ClientClosed,
        Self::ClientGone,
        Self::HeartbeatTimeout,
        Self::TokenExpired,
        Self::SlowConsumer,
        Self::Shutdown,
        Self::MessageTooBig,
        Self::ProtocolError,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::ClientClosed => "client_closed",
            Self::ClientGone => "client_gone",
            Self::HeartbeatTimeout => "heartbeat_timeout",
            Self::TokenExpired => "token_expired",
            Self::SlowConsumer => "slow_consumer",
            Self::Shutdown => "shutdown",
            Self::MessageTooBig => "message_too_big",
            Self::ProtocolError => "protocol_error",
        }
    }
}

#[derive(Default, Debug)]
pub struct Stats {
    /// Frames written to sockets.
    pub sent: AtomicU64,
    /// Messages fred dropped because the router fell behind.
    pub lagged: AtomicU64,
    /// Messages whose envelope was unreadable or named another school.
    pub invalid: AtomicU64,
    disconnects: [AtomicU64; Reason::ALL.len()],
}

impl Stats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub fn disconnected(&self, reason: Reason) {
        Self::bump(&self.disconnects[reason as usize]);
    }

    pub fn disconnects(&self, reason: Reason) -> u64 {
        self.disconnects[reason as usize].load(Relaxed)
    }

    /// Prometheus text exposition.
    pub fn render(&self, open: usize, subscriber_connected: bool) -> String {
        let mut out = format!(
            "# HELP websocket_connections Open WebSockets.\n\
             # TYPE websocket_connections gauge\n\
             websocket_connections {open}\n\
             # HELP websocket_subscriber_connected 1 while the realtime Redis subscriber is connected.\n\
             # TYPE websocket_subscriber_connected gauge\n\
             websocket_subscriber_connected {}\n\
             # HELP websocket_messages_sent_total Messages written to WebSockets.\n\
             # TYPE websocket_messages_sent_total counter\n\
             websocket_messages_sent_total {}\n\
             # HELP websocket_messages_dropped_total Realtime messages not routed.\n\
             # TYPE websocket_messages_dropped_total counter\n\
             websocket_messages_dropped_total{{reason=\"router_lagged\"}} {}\n\
             websocket_messages_dropped_total{{reason=\"invalid_envelope\"}} {}\n\
             # HELP websocket_disconnects_total WebSockets closed, by reason.\n\
             # TYPE websocket_disconnects_total counter\n",
            u8::from(subscriber_connected),
            self.sent.load(Relaxed),
            self.lagged.load(Relaxed),
            self.invalid.load(Relaxed),
        );
        for reason in Reason::ALL {
            out += &format!(
                "websocket_disconnects_total{{reason=\"{}\"}} {}\n",
                reason.name(),
                self.disconnects(reason)
            );
        }
        out
    }
}
