//! Realtime push to WebSocket clients (`/api/v1/ws`), fanned out through
//! Redis sharded pub/sub (see `platform::realtime`).
//!
//! One [`Hub`] per gateway instance owns a dedicated subscriber client and
//! the registry of open sockets by school. The first socket of a school
//! subscribes to the school's channel, the last one to leave unsubscribes.
//! A router task reads every message once and hands it to the matching
//! sockets' bounded queues; a socket whose queue is full is disconnected
//! (close 1013) rather than buffered without bound. Messages are only ever
//! routed within the school of the channel they came on, and only when the
//! envelope names that same school.
//!
//! - [`socket`]: one socket's life: heartbeat, token expiry, close codes.
//! - [`stats`]: per-instance counters for `/metrics`.

pub mod socket;
pub mod stats;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc, Mutex,
    },
    time::Duration,
};

use bytestring::ByteString;
use fred::{
    clients::SubscriberClient,
    interfaces::{ClientLike, EventInterface},
    prelude::PubsubInterface,
};
use platform::{
    caller::{Caller, Role},
    realtime::{self, Address},
};
use tokio::sync::{broadcast::error::RecvError, mpsc, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use socket::SocketSettings;
pub use stats::Stats;

/// One open socket as the router sees it.
struct Entry {
    user: Uuid,
    role: Role,
    queue: mpsc::Sender<ByteString>,
    /// Cancelled to disconnect this socket (slow consumer).
    stop: CancellationToken,
}

type Sockets = HashMap<Uuid, HashMap<u64, Entry>>;

pub struct Hub {
    subscriber: SubscriberClient,
    sockets: Mutex<Sockets>,
    /// Per school: how many sockets hold its subscription. The async lock
    /// orders a school's SSUBSCRIBE and SUNSUBSCRIBE.
    subscriptions: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<u32>>>>,
    next_id: AtomicU64,
    /// Open sockets; shutdown waits for it to reach zero.
    open: watch::Sender<usize>,
    /// Cancelled at shutdown; every socket's stop token is its child.
    shutdown: CancellationToken,
    pub settings: SocketSettings,
    /// `Origin`s that may open a socket (the CORS allow-list).
    allowed_origins: Vec<String>,
    pub stats: Stats,
}

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("cannot subscribe: {0}")]
    Subscribe(#[from] fred::error::Error),
}

impl Hub {
    /// Starts the subscriber (connecting in the background, re-subscribing
    /// after reconnects) and the router, on the calling runtime.
    pub fn start(
        subscriber: SubscriberClient,
        settings: SocketSettings,
        allowed_origins: Vec<String>,
    ) -> Arc<Self> {
        let hub = Arc::new(Self {
            sockets: Mutex::default(),
            subscriptions: Mutex::default(),
            next_id: AtomicU64::new(0),
            open: watch::Sender::new(0),
            shutdown: CancellationToken::new(),
            settings,
            allowed_origins: allowed_origins
                .into_iter()
                .filter(|o| !o.is_empty())
                .collect(),
            stats: Stats::default(),
            subscriber,
        });
        let messages = hub.subscriber.message_rx();
        hub.subscriber.connect();
        hub.subscriber.manage_subscriptions();
        tokio::spawn(route(Arc::downgrade(&hub), messages));
        hub
    }

    /// Whether the subscriber is connected (readiness reports `degraded`
    /// otherwise: sockets stay open but receive nothing).
    pub fn subscriber_connected(&self) -> bool {
        self.subscriber.is_connected()
    }

    pub fn open_sockets(&self) -> usize {
        *self.open.borrow()
    }

    /// Browsers always send `Origin` on an upgrade: it must be allowed.
    /// Clients without one (not browsers) are not exposed to cross-site
    /// WebSocket hijacking and are let through to token checks.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        origin.is_none_or(|o| self.allowed_origins.iter().any(|a| a == o))
    }

    /// Registers a socket of `caller`, subscribing to its school's channel
    /// first if it is the school's first socket here: once this returns,
    /// messages published for the caller reach the returned queue.
    pub async fn join(self: &Arc<Self>, caller: &Caller) -> Result<Membership, JoinError> {
        if self.shutdown.is_cancelled() {
            return Err(JoinError::ShuttingDown);
        }
        let school = caller.school_id;
        self.acquire(school).await?;
        let (queue, rx) = mpsc::channel(self.settings.send_queue);
        let stop = self.shutdown.child_token();
        let id = self.next_id.fetch_add(1, Relaxed);
        lock(&self.sockets).entry(school).or_default().insert(
            id,
            Entry {
                user: caller.user_id,
                role: caller.role,
                queue,
                stop: stop.clone(),
            },
        );
        self.open.send_modify(|n| *n += 1);
        Ok(Membership {
            hub: self.clone(),
            school,
            id,
            queue: rx,
            stop,
        })
    }

    async fn acquire(&self, school: Uuid) -> Result<(), JoinError> {
        let slot = lock(&self.subscriptions).entry(school).or_default().clone();
        let mut holders = slot.lock().await;
        if *holders == 0 {
            self.subscriber
                .ssubscribe(realtime::channel(school))
                .await?;
        }
        *holders += 1;
        Ok(())
    }

    async fn release(&self, school: Uuid) {
        let Some(slot) = lock(&self.subscriptions).get(&school).cloned() else {
            return;
        };
        let mut holders = slot.lock().await;
        *holders = holders.saturating_sub(1);
        if *holders > 0 {
            return;
        }
        if let Err(e) = self
            .subscriber
            .sunsubscribe(realtime::channel(school))
            .await
        {
            // Harmless: messages for a school nobody here listens to are
            // dropped by the router.
            tracing::warn!(error = %e, school.id = %school, "cannot unsubscribe");
        }
        let mut all = lock(&self.subscriptions);
        // Ours and the map's: nobody else is waiting to join.
        if Arc::strong_count(&slot) == 2 {
            all.remove(&school);
        }
    }

    /// Routes one published message to the sockets it is for.
    fn deliver(&self, channel: &str, text: &str) {
        let Some(school) = realtime::school_of_channel(channel) else {
            return;
        };
        let address = match Address::of(text) {
            Some(a) if a.school == school => a,
            _ => {
                Stats::bump(&self.stats.invalid);
                tracing::warn!(school.id = %school, "dropped a realtime message with a bad envelope");
                return;
            }
        };
        let frame = ByteString::from(text.to_owned());
        let sockets = lock(&self.sockets);
        for entry in sockets.get(&school).into_iter().flat_map(HashMap::values) {
            if !address.target.includes(entry.user, entry.role) {
                continue;
            }
            if let Err(mpsc::error::TrySendError::Full(_)) = entry.queue.try_send(frame.clone()) {
                entry.stop.cancel();
            }
        }
    }

    fn leave(self: &Arc<Self>, school: Uuid, id: u64) {
        {
            let mut sockets = lock(&self.sockets);
            if let Some(school_sockets) = sockets.get_mut(&school) {
                school_sockets.remove(&id);
                if school_sockets.is_empty() {
                    sockets.remove(&school);
                }
            }
        }
        self.open.send_modify(|n| *n = n.saturating_sub(1));
        // Not while the worker's runtime is being torn down (its tasks are
        // dropped, not run): the process is going away with its connections.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let hub = self.clone();
            rt.spawn(async move { hub.release(school).await });
        }
    }

    /// Sends every socket its close frame (1001) and waits, at most
    /// `grace`, until all are gone; refuses new sockets from now on.
    pub async fn shutdown(&self, grace: Duration) {
        self.shutdown.cancel();
        let mut open = self.open.subscribe();
        let drained = tokio::time::timeout(grace, open.wait_for(|n| *n == 0)).await;
        if drained.is_err() {
            tracing::warn!(
                websocket.open = self.open_sockets(),
                "WebSockets still open at the end of the shutdown grace"
            );
        }
    }

    /// Prometheus text for this instance.
    pub fn render(&self) -> String {
        self.stats
            .render(self.open_sockets(), self.subscriber_connected())
    }
}

/// A socket's registration: its queue and stop token; leaving the hub
/// (and possibly unsubscribing) when dropped.
pub struct Membership {
    hub: Arc<Hub>,
    school: Uuid,
    id: u64,
    pub queue: mpsc::Receiver<ByteString>,
    pub stop: CancellationToken,
}

impl Membership {
    pub fn max_client_frame_bytes(&self) -> usize {
        self.hub.settings.max_client_frame_bytes
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.hub.leave(self.school, self.id);
    }
}

/// Reads every message once and routes it; ends with the hub.
async fn route(
    hub: std::sync::Weak<Hub>,
    mut messages: tokio::sync::broadcast::Receiver<fred::types::Message>,
) {
    loop {
        let message = messages.recv().await;
        let Some(hub) = hub.upgrade() else { return };
        match message {
            Ok(m) => match m.value.as_str() {
                Some(text) => hub.deliver(&m.channel, &text),
                None => Stats::bump(&hub.stats.invalid),
            },
            Err(RecvError::Lagged(n)) => {
                hub.stats.lagged.fetch_add(n, Relaxed);
                tracing::warn!(
                    messages = n,
                    "realtime router fell behind; messages dropped"
                );
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// The registry's locks guard plain maps: a panic elsewhere cannot leave
/// them half-updated, so a poisoned lock is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
