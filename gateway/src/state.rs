//! Shared, read-only state of every worker.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use secrecy::SecretString;

use crate::{auth::Tokens, realtime::Hub, services::Services};

/// Built once per HTTP worker (see `startup`); the Arcs are process-wide.
pub struct AppState {
    pub services: Services,
    pub tokens: Arc<Tokens>,
    pub operator_token: SecretString,
    pub redis: fred::clients::Client,
    pub shutting_down: Arc<AtomicBool>,
    pub realtime: Arc<Hub>,
}

impl AppState {
    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}
