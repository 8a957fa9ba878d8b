//! Announcing what this node holds to the DHT (Kubo's `Provide.*`).
//!
//! New blocks are queued as they are stored (strategy `all`, Kubo's default) and announced by a
//! few workers (`Provide.DHT.MaxWorkers`); everything is announced again every
//! `Provide.DHT.Interval`. The queue is bounded: what does not fit is counted and left for the
//! next reprovide rather than held in memory.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use rubo_net::NetHandle;
use rubo_types::{Block, Multihash};
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};

use crate::NodeError;

/// CIDs waiting to be announced.
const QUEUE: usize = 65_536;
/// Multihashes announced lately, not announced again until the set is cleared.
const RECENT: usize = 100_000;

/// What to announce (`Provide.Strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Every block stored.
    All,
    /// Only what is pinned (roots and their DAGs) and the MFS root.
    Pinned,
    /// Only pin roots.
    Roots,
}

/// `Provide.*` (and the older `Reprovider.*` keys Kubo still reads).
#[derive(Clone, Debug)]
pub struct ProvideConfig {
    pub enabled: bool,
    pub strategy: Strategy,
    pub interval: Option<Duration>,
    pub workers: usize,
}

impl ProvideConfig {
    pub fn from_config(doc: &Value) -> Result<Self, NodeError> {
        let enabled = doc.pointer("/Provide/Enabled").and_then(Value::as_bool).unwrap_or(true);
        let raw = doc
            .pointer("/Provide/Strategy")
            .or_else(|| doc.pointer("/Reprovider/Strategy"))
            .and_then(Value::as_str)
            .unwrap_or("all");
        let strategy = parse_strategy(raw)?;
        let interval = match doc.pointer("/Provide/DHT/Interval").or_else(|| doc.pointer("/Reprovider/Interval")) {
            Some(Value::String(s)) if !s.is_empty() => {
                let d = rubo_repo::config::units::parse_duration(s)
                    .map_err(|e| NodeError::InvalidInput(format!("config Provide.DHT.Interval: {e}")))?;
                // "0" turns reproviding off, as in Kubo.
                (!d.is_zero()).then_some(d)
            }
            _ => Some(Duration::from_secs(22 * 3600)),
        };
        let workers = doc
            .pointer("/Provide/DHT/MaxWorkers")
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
            .map_or(16, |n| n.min(256) as usize);
        Ok(Self { enabled, strategy, interval, workers })
    }
}

/// Kubo's strategies: `all`, `pinned`, `roots`, `mfs`, joined with `+`, with the `+unique` and
/// `+entities` modifiers (which change how a DAG is walked, not what is announced).
pub fn parse_strategy(s: &str) -> Result<Strategy, NodeError> {
    let mut parts = HashSet::new();
    for p in s.split('+').filter(|p| !p.is_empty()) {
        match p {
            "all" | "pinned" | "roots" | "mfs" | "flat" | "unique" | "entities" => {
                parts.insert(p);
            }
            _ => return Err(NodeError::InvalidInput(format!("config Provide.Strategy: unknown strategy {p:?}"))),
        }
    }
    Ok(if parts.is_empty() || parts.contains("all") || parts.contains("flat") {
        Strategy::All
    } else if parts.contains("pinned") || parts.contains("mfs") {
        Strategy::Pinned
    } else {
        Strategy::Roots
    })
}

/// Counters for `provide stat` (and `stats provide`).
#[derive(Default)]
pub struct ProvideCounters {
    pub queued: AtomicU64,
    pub provided: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
    pub in_flight: AtomicU64,
    /// Unix seconds of the last reprovide run's start.
    pub last_reprovide: AtomicU64,
    /// Milliseconds of all announcements together (for the average).
    pub total_ms: AtomicU64,
}

/// Walks what the strategy announces, handing each CID to the callback until it returns false.
pub type KeyWalk = dyn Fn(&mut dyn FnMut(Multihash) -> bool) + Send + Sync;

/// The announcing side of an online node.
pub struct Provider {
    pub(crate) cfg: ProvideConfig,
    tx: mpsc::Sender<Multihash>,
    pub(crate) counters: Arc<ProvideCounters>,
}

impl Provider {
    /// Starts the workers (and the reprovide timer, given the blocks to walk).
    pub fn start(net: NetHandle, cfg: ProvideConfig, all_keys: Arc<KeyWalk>) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let counters = Arc::new(ProvideCounters::default());
        tokio::spawn(work(net, rx, cfg.workers, counters.clone()));
        if let Some(every) = cfg.interval {
            let (tx, counters) = (tx.clone(), counters.clone());
            tokio::spawn(async move {
                // The first run right after start, as Kubo's reprovider does.
                loop {
                    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
                    counters.last_reprovide.store(secs, Ordering::Relaxed);
                    let (keys, tx, c2) = (all_keys.clone(), tx.clone(), counters.clone());
                    // Streamed from the store, waiting for room: the reprovide paces itself on
                    // the workers and holds no list of keys.
                    let walked = tokio::task::spawn_blocking(move || {
                        let mut open = true;
                        keys(&mut |c| {
                            open = tx.blocking_send(c).is_ok();
                            if open {
                                c2.queued.fetch_add(1, Ordering::Relaxed);
                            }
                            open
                        });
                        open
                    })
                    .await;
                    if !matches!(walked, Ok(true)) {
                        return;
                    }
                    tokio::time::sleep(every).await;
                }
            });
        }
        Arc::new(Self { cfg, tx, counters })
    }

    /// Queues keys for announcement; what does not fit waits for the next reprovide.
    pub fn provide(&self, keys: impl IntoIterator<Item = Multihash>) {
        for c in keys {
            match self.tx.try_send(c) {
                Ok(()) => self.counters.queued.fetch_add(1, Ordering::Relaxed),
                Err(_) => self.counters.dropped.fetch_add(1, Ordering::Relaxed),
            };
        }
    }

    /// Blocks just stored here.
    pub fn blocks_added(&self, blocks: &[Block]) {
        if self.cfg.strategy == Strategy::All {
            self.provide(blocks.iter().filter(|b| b.cid().hash().code() != 0).map(|b| *b.cid().hash()));
        }
    }
}

async fn work(net: NetHandle, mut rx: mpsc::Receiver<Multihash>, workers: usize, counters: Arc<ProvideCounters>) {
    let slots = Arc::new(Semaphore::new(workers.max(1)));
    let mut recent: HashSet<Vec<u8>> = HashSet::new();
    while let Some(mh) = rx.recv().await {
        let key = mh.to_bytes();
        if recent.len() >= RECENT {
            recent.clear();
        }
        if !recent.insert(key.clone()) {
            continue;
        }
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let (net, counters) = (net.clone(), counters.clone());
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let start = std::time::Instant::now();
            match net.dht_provide(key).await {
                Ok(_) => counters.provided.fetch_add(1, Ordering::Relaxed),
                Err(e) => {
                    tracing::debug!(key = ?mh, "provide: {e}");
                    counters.failed.fetch_add(1, Ordering::Relaxed)
                }
            };
            counters.total_ms.fetch_add(start.elapsed().as_millis() as u64, Ordering::Relaxed);
            counters.in_flight.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategies_parse_as_kubo_names_them() {
        assert_eq!(parse_strategy("all").unwrap(), Strategy::All);
        assert_eq!(parse_strategy("").unwrap(), Strategy::All);
        assert_eq!(parse_strategy("pinned+mfs").unwrap(), Strategy::Pinned);
        assert_eq!(parse_strategy("pinned+unique").unwrap(), Strategy::Pinned);
        assert_eq!(parse_strategy("roots").unwrap(), Strategy::Roots);
        assert!(parse_strategy("everything").is_err());
    }

    #[test]
    fn config_defaults_are_kubos() {
        let c = ProvideConfig::from_config(&json!({})).unwrap();
        assert!(c.enabled);
        assert_eq!(c.strategy, Strategy::All);
        assert_eq!(c.interval, Some(Duration::from_secs(22 * 3600)));
        assert_eq!(c.workers, 16);
        let off = ProvideConfig::from_config(&json!({"Provide": {"DHT": {"Interval": "0"}}})).unwrap();
        assert_eq!(off.interval, None);
        let old = ProvideConfig::from_config(&json!({"Reprovider": {"Strategy": "roots", "Interval": "1h"}})).unwrap();
        assert_eq!((old.strategy, old.interval), (Strategy::Roots, Some(Duration::from_secs(3600))));
    }
}
