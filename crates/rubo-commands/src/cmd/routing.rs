//! `routing findprovs|findpeer|provide`, `dht query`, `stats dht` and
//! `provide clear|once|stat`, with Kubo's query-event JSON and text
//! (`core/commands/routing.go`, `dht.go`, `provide.go`). Answers come from
//! the node's routers: the dual DHT and the delegated ones
//! (`Routing.DelegatedRouters`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cmd::swarm::spec;
use crate::def::{Arg, Command};
use crate::output::{FnText, Output, Printer, STREAM_BUFFER, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt, str_opt};
use crate::{CmdError, Request};

/// Kubo's `routing.QueryEventType`s.
const FINAL_PEER: u8 = 2;
const PROVIDER: u8 = 4;

pub(crate) fn groups() -> Vec<Group> {
    vec![
        Group { path: "routing", about: "Issue routing commands.", long_about: "" },
        Group { path: "dht", about: "Issue commands directly through the DHT.", long_about: "" },
        Group { path: "provide", about: "Control and monitor content providing.", long_about: "" },
    ]
}

fn peers_arg(help: &'static str) -> Arg {
    Arg::new("peerID").help(help).required(true).num_args(1..).action(crate::def::ArgAction::Append)
}

fn keys_arg() -> Arg {
    Arg::new("key")
        .help("The key[s] to send provide records for.")
        .required(true)
        .num_args(1..)
        .action(crate::def::ArgAction::Append)
}

fn provide_def(name: &'static str) -> Command {
    Command::new(name)
        .about("Announce to the network that you are providing given values.")
        .long_about(
            "Announces to the DHT that this node holds the given blocks, so that others can\n\
             find it with 'routing findprovs'. The blocks must be stored locally.",
        )
        .arg(keys_arg())
        .arg(bool_opt("verbose", "Print extra information.").short('v'))
        .arg(bool_opt("recursive", "Recursively provide entire graph.").short('r'))
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        spec(
            "routing findpeer",
            || {
                Command::new("findpeer")
                    .about("Find the multiaddresses associated with a Peer ID.")
                    .long_about("Outputs a list of newline-delimited multiaddresses.")
                    .arg(peers_arg("The ID of the peer to search for."))
                    .arg(bool_opt("verbose", "Print extra information.").short('v'))
            },
            |ctx, req| Box::pin(findpeer(ctx, req)),
            |_| Box::new(FnText(findpeer_text)),
        ),
        spec("routing provide", || provide_def("provide"), |ctx, req| Box::pin(provide(ctx, req)), provide_text),
        spec("provide once", || provide_def("once"), |ctx, req| Box::pin(provide(ctx, req)), provide_text),
        spec(
            "dht query",
            || {
                Command::new("query")
                    .about("Find the closest Peer IDs to a given Peer ID by querying the DHT.")
                    .long_about("Outputs a list of newline-delimited Peer IDs.")
                    .arg(peers_arg("The peerID to run the query against."))
                    .arg(bool_opt("verbose", "Print extra information.").short('v'))
            },
            |ctx, req| Box::pin(query(ctx, req)),
            |_| Box::new(FnText(query_text)),
        ),
        spec(
            "stats dht",
            || {
                Command::new("dht")
                    .about("Returns statistics about the node's DHT(s).")
                    .long_about(
                        "Returns statistics about the DHT(s) the node is participating in: the peers\n\
                         of each routing table by bucket, and what the node stored for others.",
                    )
                    .arg(
                        Arg::new("dht")
                            .help("The DHT whose table should be listed (wan or lan). Defaults to all.")
                            .num_args(0..)
                            .action(crate::def::ArgAction::Append),
                    )
            },
            |ctx, req| Box::pin(stats_dht(ctx, req)),
            |_| Box::new(FnText(stats_dht_text)),
        ),
        spec(
            "provide stat",
            || {
                Command::new("stat")
                    .about("Returns statistics about the node's provider system.")
                    .long_about("Counts of what was announced, queued, failed and left for the next reprovide.")
            },
            |ctx, req| Box::pin(provide_stat(ctx, req)),
            |_| Box::new(FnText(provide_stat_text)),
        ),
        spec(
            "provide clear",
            || {
                Command::new("clear")
                    .about("Clear all CIDs from the provide queue.")
                    .long_about(
                        "Clears the provide queue: CIDs waiting to be advertised to the DHT for the\n\
                         first time. Does not affect content that is already being reprovided on\n\
                         schedule.\n\n\
                         See Provide.Strategy in the config documentation.",
                    )
                    .arg(bool_opt("quiet", "Do not write output.").short('q'))
            },
            |ctx, req| Box::pin(provide_clear(ctx, req)),
            provide_clear_text,
        ),
        spec(
            "stats provide",
            || {
                Command::new("provide")
                    .about("Returns statistics about the node's provider system.")
                    .long_about("Deprecated alias of 'provide stat'.")
            },
            |ctx, req| Box::pin(provide_stat(ctx, req)),
            |_| Box::new(FnText(provide_stat_text)),
        ),
        Spec {
            path: "routing findprovs",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("findprovs")
                    .about("Find peers that can provide a specific value, given a key.")
                    .long_about("Outputs a list of newline-delimited provider Peer IDs.")
                    .arg(Arg::new("key").help("The key to find providers for.").required(true))
                    .arg(bool_opt("verbose", "Print extra information.").short('v'))
                    .arg(str_opt("num-providers", "The number of providers to find. Default: 20.").short('n'))
            },
            run: |ctx, req| Box::pin(findprovs(ctx, req)),
            text: |_| Box::new(FnText(findprovs_text)),
        },
    ]
}

#[derive(Debug, Serialize, Deserialize)]
struct Response {
    #[serde(rename = "Addrs")]
    addrs: Vec<String>,
    #[serde(rename = "ID")]
    id: String,
}

/// Kubo's `routing.QueryEvent`.
#[derive(Debug, Serialize, Deserialize)]
struct QueryEvent {
    #[serde(rename = "Extra")]
    extra: String,
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Responses")]
    responses: Vec<Response>,
    #[serde(rename = "Type")]
    kind: u8,
}

async fn findprovs(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let key = req.arg(0, "key")?;
    let cid = rubo_types::parse_cid(key).map_err(|e| CmdError::client(e.to_string()))?;
    let n = match req.opts.int("num-providers")?.unwrap_or(20) {
        n if n < 1 => return Err(CmdError::client("number of providers must be greater than 0")),
        n => n as usize,
    };
    let found = node.find_providers(&cid, n).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        for p in found {
            let ev = QueryEvent {
                extra: String::new(),
                id: String::new(),
                responses: vec![Response {
                    addrs: p.addrs.iter().map(ToString::to_string).collect(),
                    id: p.id.to_string(),
                }],
                kind: PROVIDER,
            };
            let v = serde_json::to_value(ev).map_err(|e| CmdError::new(e.to_string()));
            if tx.send(v).await.is_err() {
                return;
            }
        }
    });
    Ok(Output::Stream(rx))
}

fn findprovs_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let ev: QueryEvent = typed(v)?;
    if ev.kind != PROVIDER {
        return Ok(());
    }
    let mut o = String::new();
    for r in ev.responses {
        o += &r.id;
        o.push('\n');
    }
    p.out(&o)
}

/// Streams already-made values.
fn stream(values: Vec<Value>) -> Output {
    let (tx, rx) = tokio::sync::mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        for v in values {
            if tx.send(Ok(v)).await.is_err() {
                return;
            }
        }
    });
    Output::Stream(rx)
}

fn event(kind: u8, id: String, responses: Vec<Response>) -> Result<Value, CmdError> {
    serde_json::to_value(QueryEvent { extra: String::new(), id, responses, kind })
        .map_err(|e| CmdError::new(e.to_string()))
}

async fn findpeer(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let mut out = Vec::new();
    for a in &req.args {
        let peer = crate::cmd::id::parse_peer(a)?;
        let addrs = node.find_peer(peer).await?;
        let r = Response { addrs: addrs.iter().map(ToString::to_string).collect(), id: peer.to_string() };
        out.push(event(FINAL_PEER, peer.to_string(), vec![r])?);
    }
    Ok(stream(out))
}

fn findpeer_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let ev: QueryEvent = typed(v)?;
    if ev.kind != FINAL_PEER {
        return Ok(());
    }
    let mut o = String::new();
    for r in ev.responses {
        for a in r.addrs {
            o += &a;
            o.push('\n');
        }
    }
    p.out(&o)
}

async fn provide(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let recursive = req.opts.flag("recursive")?;
    let mut cids = Vec::new();
    for a in &req.args {
        cids.push(rubo_types::parse_cid(a).map_err(|e| CmdError::client(e.to_string()))?);
    }
    let done = node.provide_now(&cids, recursive).await?;
    let mut out = Vec::new();
    for (cid, peers) in done {
        out.push(event(FINAL_PEER, String::new(), Vec::new()).map(|mut v| {
            v["Extra"] = Value::String(format!("{} {peers}", req.global.cid(&cid)));
            v
        })?);
    }
    Ok(stream(out))
}

/// Quiet unless `--verbose`, as Kubo.
fn provide_text(req: &Request) -> Box<dyn crate::output::TextEncoder> {
    let verbose = req.opts.flag("verbose").unwrap_or(false);
    Box::new(FnText(move |v: Value, p: &mut Printer<'_>| {
        let ev: QueryEvent = typed(v)?;
        if !verbose {
            return Ok(());
        }
        let (cid, peers) = ev.extra.split_once(' ').unwrap_or((&ev.extra, "0"));
        p.out(&format!("provided {cid} to {peers} peers\n"))
    }))
}

/// Go's `time.Duration` string for whole seconds (`22h0m0s`).
fn go_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec}s"),
        (h, m, sec) => format!("{h}h{m}m{sec}s"),
    }
}

async fn query(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let mut out = Vec::new();
    for a in &req.args {
        let peer = crate::cmd::id::parse_peer(a)?;
        for p in node.dht_query(peer).await? {
            let r = Response { addrs: p.addrs.iter().map(ToString::to_string).collect(), id: p.id.to_string() };
            out.push(event(FINAL_PEER, p.id.to_string(), vec![r])?);
        }
    }
    Ok(stream(out))
}

fn query_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let ev: QueryEvent = typed(v)?;
    if ev.kind != FINAL_PEER {
        return Ok(());
    }
    p.out(&format!("{}\n", ev.id))
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DhtPeerOut {
    #[serde(rename = "ID")]
    id: String,
    connected: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BucketOut {
    /// Distance bucket (common prefix length with our key).
    index: u32,
    peers: Vec<DhtPeerOut>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DhtOut {
    name: String,
    mode: String,
    buckets: Vec<BucketOut>,
    provider_keys: usize,
    records: usize,
    inbound_requests: u64,
    providers_served: u64,
    provider_records_accepted: u64,
    provider_records_refused: u64,
    value_records_accepted: u64,
    value_records_refused: u64,
    rate_limited: u64,
}

async fn stats_dht(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    for a in &req.args {
        if a != "wan" && a != "lan" {
            return Err(CmdError::client(format!("invalid DHT name {a:?}: must be wan or lan")));
        }
    }
    let s = node.dht_stats().await?;
    let connected: std::collections::HashSet<String> = node
        .net()?
        .peers()
        .await
        .map_err(|e| CmdError::new(e.to_string()))?
        .iter()
        .map(|p| p.peer.to_string())
        .collect();
    let mut out = Vec::new();
    for t in s.tables {
        let name = t.net.name().to_string();
        if !req.args.is_empty() && !req.args.contains(&name) {
            continue;
        }
        let buckets = t
            .buckets
            .into_iter()
            .map(|(index, peers)| BucketOut {
                index: 255u32.saturating_sub(index),
                peers: peers
                    .into_iter()
                    .map(|p| {
                        let id = p.to_string();
                        DhtPeerOut { connected: connected.contains(&id), id }
                    })
                    .collect(),
            })
            .collect();
        out.push(
            serde_json::to_value(DhtOut {
                name,
                mode: if t.server { "server".into() } else { "client".into() },
                buckets,
                provider_keys: s.provider_keys,
                records: s.records,
                inbound_requests: s.inbound_requests,
                providers_served: s.providers_served,
                provider_records_accepted: s.provider_records_accepted,
                provider_records_refused: s.provider_records_refused,
                value_records_accepted: s.value_records_accepted,
                value_records_refused: s.value_records_refused,
                rate_limited: s.rate_limited,
            })
            .map_err(|e| CmdError::new(e.to_string()))?,
        );
    }
    Ok(stream(out))
}

fn stats_dht_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let d: DhtOut = typed(v)?;
    let total: usize = d.buckets.iter().map(|b| b.peers.len()).sum();
    let mut o = format!("DHT {} ({} peers, {} mode):\n", d.name, total, d.mode);
    for b in &d.buckets {
        o += &format!("  Bucket {:>3} ({} peers):\n", b.index, b.peers.len());
        for peer in &b.peers {
            o += &format!("    {} {}\n", if peer.connected { "@" } else { " " }, peer.id);
        }
    }
    o += &format!(
        "  Provider keys: {}  Records: {}  Inbound requests: {}  Providers served: {}\n  Provider records accepted: {}  refused: {}  Value records accepted: {}  refused: {}  Rate limited: {}\n\n",
        d.provider_keys,
        d.records,
        d.inbound_requests,
        d.providers_served,
        d.provider_records_accepted,
        d.provider_records_refused,
        d.value_records_accepted,
        d.value_records_refused,
        d.rate_limited
    );
    p.out(&o)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProvideStatOut {
    strategy: String,
    interval: String,
    queued: u64,
    provided: u64,
    failed: u64,
    dropped: u64,
    in_flight: u64,
    last_reprovide: u64,
    avg_provide_ms: u64,
    sweep: SweepOut,
}

/// The sweeping reprovider: keys in its keystore, and totals since the daemon started.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SweepOut {
    keys: u64,
    cycles: u64,
    cycle_start: u64,
    regions: u64,
    lookups: u64,
    peers: u64,
    keys_sent: u64,
    messages: u64,
    failed_peers: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    last_error: String,
}

async fn provide_stat(ctx: Ctx, _req: Request) -> Result<Output, CmdError> {
    let s = ctx.node()?.provide_stats()?;
    Output::value(ProvideStatOut {
        strategy: s.strategy,
        interval: s.interval.map_or_else(|| "0".into(), go_duration),
        queued: s.queued,
        provided: s.provided,
        failed: s.failed,
        dropped: s.dropped,
        in_flight: s.in_flight,
        last_reprovide: s.last_reprovide,
        avg_provide_ms: s.avg_ms,
        sweep: SweepOut {
            keys: s.sweep.keys,
            cycles: s.sweep.cycles,
            cycle_start: s.sweep.cycle_start,
            regions: s.sweep.report.regions,
            lookups: s.sweep.report.lookups,
            peers: s.sweep.report.peers,
            keys_sent: s.sweep.report.keys,
            messages: s.sweep.report.messages,
            failed_peers: s.sweep.report.failed_peers,
            last_error: s.sweep.last_error.unwrap_or_default(),
        },
    })
}

/// `provide clear`: the number of CIDs removed (Kubo emits the bare integer; nothing with
/// `--quiet`). A node that does not provide has an empty queue.
async fn provide_clear(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let cleared = ctx.node()?.provide_clear();
    if req.opts.flag("quiet")? {
        return Ok(Output::None);
    }
    Output::value(cleared)
}

fn provide_clear_text(req: &Request) -> Box<dyn crate::output::TextEncoder> {
    let quiet = req.opts.flag("quiet").unwrap_or(false);
    Box::new(FnText(move |v: Value, p: &mut Printer<'_>| {
        if quiet {
            return Ok(());
        }
        let cleared: u64 = typed(v)?;
        p.out(&format!("removed {cleared} items from provide queue\n"))
    }))
}

fn provide_stat_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let s: ProvideStatOut = typed(v)?;
    p.out(&format!(
        "Strategy:\t{}\nInterval:\t{}\nQueued:\t\t{}\nProvided:\t{}\nFailed:\t\t{}\nDropped:\t{}\nIn flight:\t{}\nAvg provide:\t{} ms\n",
        s.strategy, s.interval, s.queued, s.provided, s.failed, s.dropped, s.in_flight, s.avg_provide_ms
    ))?;
    let w = &s.sweep;
    p.out(&format!(
        "Sweep:\n\tKeys:\t\t{}\n\tCycles:\t\t{}\n\tRegions:\t{}\n\tLookups:\t{}\n\tPeers:\t\t{}\n\tKeys sent:\t{}\n\tMessages:\t{}\n\tFailed peers:\t{}\n",
        w.keys, w.cycles, w.regions, w.lookups, w.peers, w.keys_sent, w.messages, w.failed_peers
    ))?;
    if !w.last_error.is_empty() {
        p.out(&format!("\tLast error:\t{}\n", w.last_error))?;
    }
    Ok(())
}
