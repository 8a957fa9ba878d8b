//! `rubo daemon`: the node as a long-running process. It opens the repo for
//! writing, joins libp2p (unless `--offline`), serves the RPC API, writes
//! `$RUBO_PATH/api` once the API answers, and on SIGINT/SIGTERM or `rubo
//! shutdown` stops cleanly: the API finishes what it is doing and refuses the
//! rest, the network closes, the `api` file goes, the datastore closes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};
use rubo_node::rubo_net::libp2p::Multiaddr;
use rubo_node::rubo_net::libp2p::multiaddr::Protocol;
use rubo_node::{LockMode, Node};

/// The `daemon` subcommand's definition (CLI-only, as Kubo's).
pub(crate) fn command() -> Command {
    let flag = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .help(help)
            .num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
            .value_parser(clap::builder::BoolishValueParser::new())
            .hide_possible_values(true)
            .action(ArgAction::Set)
    };
    Command::new("daemon")
        .about("Run a network-connected rubo node.")
        .long_about(
            "Run a network-connected rubo node.\n\n\
             'rubo daemon' runs a persistent rubo daemon that can serve commands over the\n\
             network. Most applications that use rubo will do so by communicating with a\n\
             daemon over the HTTP RPC API. While the daemon is running, calls to 'rubo'\n\
             commands will be sent over the network to the daemon.\n\n\
             The daemon listens on the ports in the config (Addresses.Swarm, Addresses.API),\n\
             writes the RPC API's address to $RUBO_PATH/api once it answers, and stops on\n\
             SIGINT, SIGTERM or 'rubo shutdown'.\n\n\
             For a first run, '--init' initializes the repo (with '--init-profile', e.g.\n\
             'test' for loopback only and no bootstrap peers).",
        )
        .arg(flag("init", "Initialize rubo with default settings if not already initialized"))
        .arg(
            Arg::new("init-config")
                .long("init-config")
                .help("Path to existing configuration file to be loaded during --init")
                .num_args(1),
        )
        .arg(
            Arg::new("init-profile")
                .long("init-profile")
                .help("Configuration profiles to apply for --init. See rubo init --help for more")
                .num_args(1),
        )
        .arg(
            Arg::new("routing")
                .long("routing")
                .help("Overrides the routing option (acted on once routing exists) [default: default]")
                .num_args(1),
        )
        .arg(flag("enable-gc", "Enable automatic periodic repo garbage collection"))
        .arg(flag("enable-pubsub-experiment", "Enable experimental pubsub feature (accepted; pubsub comes later)"))
        .arg(flag("enable-namesys-pubsub", "Enable IPNS over pubsub (accepted; IPNS comes later)"))
        .arg(flag("migrate", "If true, assume yes at the migrate prompt (rubo has one repo version)"))
}

fn say(s: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{s}");
    let _ = out.flush();
}

/// The socket addresses of `Addresses.API` multiaddrs.
pub(crate) fn socket_addrs(maddrs: &[String]) -> Result<Vec<std::net::SocketAddr>, String> {
    let mut out = Vec::new();
    for m in maddrs {
        let a: Multiaddr = m.parse().map_err(|e| format!("invalid API address {m:?}: {e}"))?;
        let mut ip = None;
        let mut port = None;
        for p in a.iter() {
            match p {
                Protocol::Ip4(v) => ip = Some(std::net::IpAddr::V4(v)),
                Protocol::Ip6(v) => ip = Some(std::net::IpAddr::V6(v)),
                Protocol::Tcp(p) => port = Some(p),
                Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) if h == "localhost" => {
                    ip = Some(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
                }
                _ => return Err(format!("unsupported API address {m:?}: only /ip4|ip6/<ip>/tcp/<port>")),
            }
        }
        match (ip, port) {
            (Some(ip), Some(port)) => out.push(std::net::SocketAddr::new(ip, port)),
            _ => return Err(format!("unsupported API address {m:?}: only /ip4|ip6/<ip>/tcp/<port>")),
        }
    }
    Ok(out)
}

/// The multiaddr of a bound socket, as Kubo writes it into `api` (an
/// unspecified address becomes the loopback one, which clients can dial).
pub(crate) fn maddr_of(a: std::net::SocketAddr) -> String {
    match a.ip() {
        std::net::IpAddr::V4(v) if v.is_unspecified() => format!("/ip4/127.0.0.1/tcp/{}", a.port()),
        std::net::IpAddr::V4(v) => format!("/ip4/{v}/tcp/{}", a.port()),
        std::net::IpAddr::V6(v) if v.is_unspecified() => format!("/ip6/::1/tcp/{}", a.port()),
        std::net::IpAddr::V6(v) => format!("/ip6/{v}/tcp/{}", a.port()),
    }
}

/// Writes `contents` at `path` atomically: readers see the old file or the
/// whole new one.
fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

/// Removes the `api` file when dropped: it must not outlive the daemon,
/// however the daemon ends.
struct ApiFile(PathBuf);

impl Drop for ApiFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Host:port lines for "Swarm listening on", one per distinct address.
fn listen_lines(addrs: &[Multiaddr]) -> Vec<String> {
    let mut lines: Vec<String> = addrs
        .iter()
        .map(|a| {
            let mut host = String::new();
            let mut port = String::new();
            let mut proto = "TCP";
            for p in a.iter() {
                match p {
                    Protocol::Ip4(v) => host = v.to_string(),
                    Protocol::Ip6(v) => host = format!("[{v}]"),
                    Protocol::Tcp(p) => port = p.to_string(),
                    Protocol::Udp(p) => {
                        port = p.to_string();
                        proto = "UDP";
                    }
                    _ => {}
                }
            }
            format!("Swarm listening on {host}:{port} ({proto})")
        })
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

pub(crate) fn run(repo_path: PathBuf, m: &ArgMatches, offline: bool) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let flag = |name: &str| m.get_one::<bool>(name).copied().unwrap_or(false);
    let res = rt.block_on(daemon(repo_path, m, offline, flag("init"), flag("enable-gc")));
    rt.shutdown_timeout(Duration::from_secs(10));
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn daemon(repo_path: PathBuf, m: &ArgMatches, offline: bool, init: bool, gc: bool) -> Result<(), String> {
    say("Initializing daemon...");
    if !rubo_node::rubo_repo::is_initialized(&repo_path) {
        if !init {
            return Err(format!(
                "no rubo repo found in {}.\nplease run: 'rubo init' (or 'rubo daemon --init')",
                repo_path.display()
            ));
        }
        let profiles: Vec<String> = m
            .get_one::<String>("init-profile")
            .map(|p| p.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default();
        let config = match m.get_one::<String>("init-config") {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
                Some(serde_json::from_str(&text).map_err(|e| format!("invalid config file {p}: {e}"))?)
            }
            None => None,
        };
        let opts = rubo_node::rubo_repo::InitOptions {
            key_type: rubo_node::rubo_repo::identity::KeyType::Ed25519,
            bits: 2048,
            profiles,
            config,
        };
        let p = repo_path.clone();
        let id = tokio::task::spawn_blocking(move || rubo_node::rubo_repo::Repo::init(&p, &opts))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        say(&format!("initializing rubo node at {}", repo_path.display()));
        say(&format!("peer identity: {}", id.peer_id()));
    }
    let p = repo_path.clone();
    let node = tokio::task::spawn_blocking(move || Node::open(&p, LockMode::Exclusive, "rubo daemon"))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    node.set_daemon();
    say(&format!("rubo version: {}", rubo_node::VERSION));
    say(&format!("Repo version: {}", rubo_node::rubo_repo::REPO_VERSION));
    // GOARCH/GOOS names, as Kubo prints them.
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        a => a,
    };
    say(&format!("System version: {arch}/{}", std::env::consts::OS));
    say(&format!("Rust version: {}", rubo_node::RUSTC));
    say(&format!("PeerID: {}", node.repo().identity().peer_id()));
    let doc = node.repo().config().doc().clone();

    if offline {
        say("Swarm not listening, running in offline mode.");
    } else {
        let cfg = rubo_node::net::net_config(&doc).map_err(|e| e.to_string())?;
        let net = node.go_online(cfg).await.map_err(|e| e.to_string())?;
        let addrs = net.listen_addrs().await.map_err(|e| e.to_string())?;
        for l in listen_lines(&addrs) {
            say(&l);
        }
        say("Run 'rubo id' to inspect announced and discovered multiaddrs of this node.");
    }

    // The RPC API.
    let api_maddrs: Vec<String> = match doc.pointer("/Addresses/API") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut servers = Vec::new();
    let mut api_file = None;
    for sa in socket_addrs(&api_maddrs)? {
        let listener =
            tokio::net::TcpListener::bind(sa).await.map_err(|e| format!("RPC API: cannot listen on {sa}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        let maddr = maddr_of(bound);
        let server = crate::api::start(listener, node.clone(), &doc, bound.port(), stop_rx.clone())?;
        servers.push(server);
        say(&format!("RPC API server listening on {maddr}"));
        if api_file.is_none() {
            let path = repo_path.join("api");
            write_atomic(&path, &maddr).map_err(|e| format!("{}: {e}", path.display()))?;
            api_file = Some(ApiFile(path));
        }
    }
    // The gateway.
    let gw_maddrs: Vec<String> = match doc.pointer("/Addresses/Gateway") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    let mut gateway_file = None;
    for sa in socket_addrs(&gw_maddrs)? {
        let listener =
            tokio::net::TcpListener::bind(sa).await.map_err(|e| format!("gateway: cannot listen on {sa}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        servers.push(crate::api::start_gateway(listener, node.clone(), &doc, stop_rx.clone())?);
        say(&format!("Gateway server listening on {}", maddr_of(bound)));
        if gateway_file.is_none() {
            // Kubo writes the gateway's URL, as a browser would use it.
            let host = match bound.ip() {
                std::net::IpAddr::V4(v) if v.is_unspecified() => "127.0.0.1".to_string(),
                std::net::IpAddr::V4(v) => v.to_string(),
                std::net::IpAddr::V6(v) if v.is_unspecified() => "[::1]".to_string(),
                std::net::IpAddr::V6(v) => format!("[{v}]"),
            };
            let path = repo_path.join("gateway");
            write_atomic(&path, &format!("http://{host}:{}", bound.port()))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            gateway_file = Some(ApiFile(path));
        }
    }
    let gc_task = match gc.then(|| GcSchedule::from_config(&doc)) {
        Some(Some(schedule)) => Some(tokio::spawn(periodic_gc(node.clone(), schedule))),
        _ => None,
    };
    say("Daemon is ready");

    wait_for_stop(&node).await;
    say("Received interrupt signal, shutting down...");
    say("(Hit ctrl-c again to force-shutdown the daemon.)");
    // A second signal forces the exit.
    tokio::spawn(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("Received another interrupt before graceful shutdown, terminating...");
        std::process::exit(255);
    });
    // New requests are refused from now on; those in flight finish.
    drop(api_file);
    drop(gateway_file);
    let _ = stop_tx.send(true);
    for s in servers {
        let _ = s.await;
    }
    if let Some(t) = gc_task {
        t.abort();
    }
    node.go_offline().await;
    // The last handle closes the repo: datastore flushed, lock released.
    drop(node);
    Ok(())
}

async fn wait_for_stop(node: &Node) {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
        _ = node.shutdown_requested() => {}
    }
}

/// When `--enable-gc` collects: every `period`, once the repo uses
/// `threshold` bytes or more.
struct GcSchedule {
    period: Duration,
    max: u64,
    threshold: u64,
}

impl GcSchedule {
    /// Kubo's settings: `Datastore.GCPeriod` (default 1h; `0` disables
    /// periodic GC), `StorageMax` (10GB) and `StorageGCWatermark` (90%).
    fn from_config(doc: &serde_json::Value) -> Option<Self> {
        use rubo_node::rubo_repo::config::units::{parse_bytes, parse_duration};
        let period = doc
            .pointer("/Datastore/GCPeriod")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .and_then(|s| parse_duration(s).ok())
            .unwrap_or(Duration::from_secs(3600));
        if period.is_zero() {
            return None;
        }
        let max = doc
            .pointer("/Datastore/StorageMax")
            .and_then(|v| v.as_str())
            .and_then(|s| parse_bytes(s).ok())
            .unwrap_or(10_000_000_000);
        let watermark = doc.pointer("/Datastore/StorageGCWatermark").and_then(|v| v.as_u64()).unwrap_or(90).min(100);
        Some(Self { period, max, threshold: max / 100 * watermark })
    }
}

/// `--enable-gc`: every `Datastore.GCPeriod`, collects garbage once the repo
/// is above `StorageGCWatermark` percent of `StorageMax` (Kubo's rule).
async fn periodic_gc(node: Node, schedule: GcSchedule) {
    let GcSchedule { period, max, threshold } = schedule;
    let mut tick = tokio::time::interval(period);
    tick.tick().await;
    loop {
        tick.tick().await;
        let used = match node.repo_api().stat(true).await {
            Ok(s) => s.repo_size,
            Err(e) => {
                tracing::warn!("periodic GC: repo size: {e}");
                continue;
            }
        };
        if used < threshold {
            continue;
        }
        tracing::info!("periodic GC: repo uses {used} bytes of {max}, collecting");
        let mut events = node.gc();
        while let Some(ev) = events.recv().await {
            if let Err(e) = ev {
                tracing::warn!("periodic GC: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_addresses() {
        let a = socket_addrs(&["/ip4/127.0.0.1/tcp/5001".into(), "/ip6/::1/tcp/0".into()]).unwrap();
        assert_eq!(a[0].to_string(), "127.0.0.1:5001");
        assert_eq!(a[1].to_string(), "[::1]:0");
        assert!(socket_addrs(&["/ip4/127.0.0.1/udp/5001".into()]).is_err());
        assert_eq!(maddr_of("0.0.0.0:5001".parse().unwrap()), "/ip4/127.0.0.1/tcp/5001");
        assert_eq!(maddr_of("[::]:7".parse().unwrap()), "/ip6/::1/tcp/7");
    }

    #[test]
    fn listen_lines_as_kubo() {
        let a: Vec<Multiaddr> =
            vec!["/ip4/127.0.0.1/tcp/4001".parse().unwrap(), "/ip4/127.0.0.1/udp/4001/quic-v1".parse().unwrap()];
        assert_eq!(
            listen_lines(&a),
            ["Swarm listening on 127.0.0.1:4001 (TCP)", "Swarm listening on 127.0.0.1:4001 (UDP)"]
        );
    }
}
