//! `/debug/metrics/prometheus`: Prometheus text format 0.0.4, with Kubo's
//! metric names (`ipfs_info`, `ipfs_http_requests_total`), and a registry
//! the daemon adds its own gauges and counters to (peers, bitswap...).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, MutexGuard};

/// What Kubo's promhttp handler answers with.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores";

/// One value of a metric, with its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn new(value: f64) -> Self {
        Self { labels: Vec::new(), value }
    }

    pub fn label(mut self, name: &str, value: &str) -> Self {
        self.labels.push((name.to_string(), value.to_string()));
        self
    }
}

/// Reads a metric's current samples when the endpoint is scraped.
pub type Collect = Box<dyn Fn() -> Vec<Sample> + Send + Sync>;

struct Collector {
    name: String,
    help: String,
    kind: &'static str,
    collect: Collect,
}

#[derive(Default)]
struct Inner {
    /// (handler, method, code) -> count.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    collectors: Mutex<Vec<Collector>>,
}

/// The metrics registry; clones share it.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a gauge whose samples `collect` reads at each scrape
    /// (e.g. `ipfs_p2p_peers_total{transport}`).
    pub fn add_gauge(&self, name: &str, help: &str, collect: impl Fn() -> Vec<Sample> + Send + Sync + 'static) {
        self.add(name, help, "gauge", Box::new(collect));
    }

    /// Adds a counter read at each scrape.
    pub fn add_counter(&self, name: &str, help: &str, collect: impl Fn() -> Vec<Sample> + Send + Sync + 'static) {
        self.add(name, help, "counter", Box::new(collect));
    }

    fn add(&self, name: &str, help: &str, kind: &'static str, collect: Collect) {
        let mut c = lock(&self.inner.collectors);
        c.retain(|c| c.name != name);
        c.push(Collector { name: name.to_string(), help: help.to_string(), kind, collect });
    }

    /// Counts one answered request (`handler` is "api" or "gateway").
    pub fn count_request(&self, handler: &str, method: &str, code: u16) {
        let key = (handler.to_string(), method.to_ascii_lowercase(), code);
        *lock(&self.inner.requests).entry(key).or_default() += 1;
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        head(&mut out, "ipfs_info", "rubo IPFS version information.", "gauge");
        let info = Sample::new(1.0).label("commit", rubo_node::COMMIT).label("version", rubo_node::VERSION);
        sample(&mut out, "ipfs_info", &info);
        head(&mut out, "ipfs_http_requests_total", "Total number of HTTP requests made.", "counter");
        for ((handler, method, code), n) in lock(&self.inner.requests).iter() {
            let s = Sample::new(*n as f64)
                .label("code", &code.to_string())
                .label("handler", handler)
                .label("method", method);
            sample(&mut out, "ipfs_http_requests_total", &s);
        }
        for c in lock(&self.inner.collectors).iter() {
            head(&mut out, &c.name, &c.help, c.kind);
            for s in (c.collect)() {
                sample(&mut out, &c.name, &s);
            }
        }
        out
    }
}

fn head(out: &mut String, name: &str, help: &str, kind: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, s: &Sample) {
    out.push_str(name);
    if !s.labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in s.labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let v = v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
            let _ = write!(out, "{k}=\"{v}\"");
        }
        out.push('}');
    }
    let v = if s.value.is_nan() {
        "NaN".to_string()
    } else if s.value.is_infinite() {
        if s.value > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{}", s.value)
    };
    let _ = writeln!(out, " {v}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::new();
        m.count_request("api", "POST", 200);
        m.count_request("api", "POST", 200);
        m.add_gauge("ipfs_p2p_peers_total", "Number of connected peers", || {
            vec![Sample::new(3.0).label("transport", "/ip4/tcp")]
        });
        let text = m.render();
        assert!(text.contains("# TYPE ipfs_info gauge\nipfs_info{commit=\""), "{text}");
        assert!(text.contains("ipfs_http_requests_total{code=\"200\",handler=\"api\",method=\"post\"} 2\n"), "{text}");
        assert!(text.contains("# TYPE ipfs_p2p_peers_total gauge\nipfs_p2p_peers_total{transport=\"/ip4/tcp\"} 3\n"));
    }
}
