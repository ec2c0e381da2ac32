//! Per-key single-flight: while one request loads a key from the origin, the
//! others asking for the same key and generation wait for its answer instead
//! of calling the origin too.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::watch;

use super::Entry;

#[derive(Clone)]
enum State {
    Loading,
    /// `None`: the answer was not cacheable; waiters call the origin themselves.
    Done(Option<Arc<Entry>>),
}

#[derive(Default)]
pub struct Flights {
    loading: Mutex<HashMap<String, watch::Receiver<State>>>,
}

pub enum Join<'a> {
    /// Another load finished just now; its value is current.
    Ready(Arc<Entry>),
    Follow(Follower),
    Lead(Leader<'a>),
}

pub struct Follower(watch::Receiver<State>);

impl Follower {
    /// The leader's value; `None` if it was not cacheable or the leader gave
    /// up (its client went away).
    pub async fn wait(mut self) -> Option<Arc<Entry>> {
        match self.0.wait_for(|s| matches!(s, State::Done(_))).await {
            Ok(s) => match &*s {
                State::Done(e) => e.clone(),
                State::Loading => None,
            },
            Err(_) => None,
        }
    }
}

pub struct Leader<'a> {
    flights: &'a Flights,
    key: String,
    tx: watch::Sender<State>,
}

impl Leader<'_> {
    pub fn finish(self, entry: Option<Arc<Entry>>) {
        self.tx.send_replace(State::Done(entry));
    }
}

impl Drop for Leader<'_> {
    /// Also runs when the leader's request is dropped mid-load: its followers
    /// then see a closed channel and load for themselves.
    fn drop(&mut self) {
        lock(&self.flights.loading).remove(&self.key);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map stays consistent even if a holder panicked.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Flights {
    /// Joins the load of `key` at `generation`. `recent` looks for a value a
    /// load finished just before: checked under the same lock the leader
    /// releases after filling it, so a late arrival never loads again.
    pub fn join(
        &self,
        key: &str,
        generation: &str,
        recent: impl FnOnce() -> Option<Arc<Entry>>,
    ) -> Join<'_> {
        let key = format!("{key}@{generation}");
        let mut loading = lock(&self.loading);
        if let Some(rx) = loading.get(&key) {
            return Join::Follow(Follower(rx.clone()));
        }
        if let Some(e) = recent() {
            return Join::Ready(e);
        }
        let (tx, rx) = watch::channel(State::Loading);
        loading.insert(key.clone(), rx);
        Join::Lead(Leader {
            flights: self,
            key,
            tx,
        })
    }
}
