//! The network commands: `swarm ...`, `ping`, `stats bw`, `shutdown`, with
//! Kubo's JSON shapes and text forms (`core/commands/swarm.go`, `ping.go`,
//! `stat.go`, `shutdown.go`). They need the daemon: on an offline node they
//! answer Kubo's "must be run in online mode".

use std::collections::BTreeMap;
use std::time::Duration;

use rubo_node::Node;
use rubo_node::rubo_net::libp2p::multiaddr::Protocol;
use rubo_node::rubo_net::libp2p::{Multiaddr, PeerId};
use rubo_node::rubo_net::{Direction, NetHandle, PeerInfo};
use rubo_repo::config::units::format_duration;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::def::{Arg, ArgAction, Command};
use crate::output::{FnText, Output, Printer, STREAM_BUFFER, TextEncoder, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt, str_opt};
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![
        Group {
            path: "swarm",
            about: "Interact with the swarm.",
            long_about: "'rubo swarm' is a tool to manipulate the network swarm. The swarm is the\n\
                component that opens, listens for, and maintains connections to other\n\
                ipfs peers in the internet.",
        },
        Group { path: "swarm peering", about: "Modify the peering subsystem.", long_about: "" },
        Group { path: "stats", about: "Query rubo statistics.", long_about: "" },
    ]
}

fn online(ctx: &Ctx) -> Result<(Node, NetHandle), CmdError> {
    let node = ctx.node()?.clone();
    let net = node.net()?.clone();
    Ok((node, net))
}

fn net_err(e: rubo_node::rubo_net::NetError) -> CmdError {
    CmdError::new(e.to_string())
}

fn many(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).help(help).num_args(0..).action(ArgAction::Append)
}

/// A command that reads the repo and takes string arguments (the network
/// and Bitswap commands).
pub(crate) fn spec(
    path: &'static str,
    def: fn() -> Command,
    run: crate::registry::Handler,
    text: crate::registry::TextFn,
) -> Spec {
    Spec { path, repo: RepoUse::Read, repo_for: None, args: ArgKind::Strings, local_only: false, def, run, text }
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        spec(
            "swarm peers",
            || {
                Command::new("peers")
                    .about("List peers with open connections.")
                    .long_about("'rubo swarm peers' lists the set of peers this node is connected to.")
                    .arg(bool_opt("verbose", "display all extra information").short('v'))
                    .arg(bool_opt("streams", "Also list information about open streams for each peer"))
                    .arg(bool_opt("latency", "Also list information about latency to each peer"))
                    .arg(bool_opt("direction", "Also list information about the direction of connection"))
                    .arg(bool_opt("identify", "Also list information about peers identify"))
            },
            |ctx, req| Box::pin(peers(ctx, req)),
            |_| Box::new(FnText(peers_text)),
        ),
        spec(
            "swarm connect",
            || {
                Command::new("connect")
                    .about("Open connection to a given peer.")
                    .long_about(
                        "'rubo swarm connect' attempts to ensure a connection to a given peer.\n\n\
                         Multiaddresses given must contain a peer ID, e.g.\n\
                         /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...",
                    )
                    .arg(many("address", "Address of peer to connect to.").required(true))
            },
            |ctx, req| Box::pin(connect(ctx, req)),
            |_| Box::new(FnText(strings_text)),
        ),
        spec(
            "swarm disconnect",
            || {
                Command::new("disconnect")
                    .about("Close connection to a given address.")
                    .long_about(
                        "'rubo swarm disconnect' closes a connection to a peer address. The address\n\
                         format is a multiaddr; with /p2p/<id> every connection to that peer closes.",
                    )
                    .arg(many("address", "Address of peer to disconnect from.").required(true))
            },
            |ctx, req| Box::pin(disconnect(ctx, req)),
            |_| Box::new(FnText(strings_text)),
        ),
        spec(
            "swarm addrs",
            || {
                Command::new("addrs")
                    .about("List known addresses. Useful for debugging.")
                    .long_about("'rubo swarm addrs' lists all addresses this node is aware of.")
            },
            |ctx, _| Box::pin(addrs(ctx)),
            |_| Box::new(FnText(addrs_text)),
        ),
        spec(
            "swarm addrs local",
            || {
                Command::new("local")
                    .about("List local addresses.")
                    .long_about(
                        "'rubo swarm addrs local' lists all local listening addresses announced to the network.",
                    )
                    .arg(bool_opt("id", "Show peer ID in addresses."))
            },
            |ctx, req| Box::pin(addrs_local(ctx, req)),
            |_| Box::new(FnText(strings_text)),
        ),
        spec(
            "swarm addrs listen",
            || {
                Command::new("listen")
                    .about("List interface listening addresses.")
                    .long_about("'rubo swarm addrs listen' lists all interface addresses the node is listening on.")
            },
            |ctx, _| Box::pin(addrs_listen(ctx)),
            |_| Box::new(FnText(strings_text)),
        ),
        spec(
            "swarm peering add",
            || {
                Command::new("add")
                    .about("Add peers into the peering subsystem.")
                    .long_about(
                        "'rubo swarm peering add' will add the new address to the peering subsystem as one that should always be connected to.",
                    )
                    .arg(many("address", "address of peer to add into the peering subsystem").required(true))
            },
            |ctx, req| Box::pin(peering_add(ctx, req)),
            |_| Box::new(FnText(|v, p: &mut Printer<'_>| peering_text("add", v, p))),
        ),
        spec(
            "swarm peering ls",
            || {
                Command::new("ls")
                    .about("List peers registered in the peering subsystem.")
                    .long_about(
                        "'rubo swarm peering ls' lists the peers that are registered in the peering subsystem and to which the daemon is always connected.",
                    )
            },
            |ctx, _| Box::pin(peering_ls(ctx)),
            |_| Box::new(FnText(peering_ls_text)),
        ),
        spec(
            "swarm peering rm",
            || {
                Command::new("rm")
                    .about("Remove a peer from the peering subsystem.")
                    .long_about(
                        "'rubo swarm peering rm' will remove the given ID from the peering subsystem and remove it from the always-on connection.",
                    )
                    .arg(many("ID", "ID of peer to remove from the peering subsystem").required(true))
            },
            |ctx, req| Box::pin(peering_rm(ctx, req)),
            |_| Box::new(FnText(|v, p: &mut Printer<'_>| peering_text("remove", v, p))),
        ),
        spec(
            "swarm filters",
            || {
                Command::new("filters").about("Manipulate address filters.").long_about(
                    "'rubo swarm filters' will list out currently applied filters. Its subcommands\n\
                     can be used to add or remove said filters. Filters are specified using the\n\
                     multiaddr-filter format, e.g. /ip4/192.168.0.0/ipcidr/16",
                )
            },
            |ctx, _| Box::pin(filters(ctx, None)),
            |_| Box::new(FnText(strings_text)),
        ),
        spec(
            "swarm filters add",
            || {
                Command::new("add")
                    .about("Add an address filter.")
                    .long_about("'rubo swarm filters add' will add an address filter to the daemon's swarm.")
                    .arg(many("address", "Multiaddr to filter.").required(true))
            },
            |ctx, req| Box::pin(filters(ctx, Some((true, req)))),
            |_| Box::new(FnText(strings_text)),
        ),
        spec(
            "swarm filters rm",
            || {
                Command::new("rm")
                    .about("Remove an address filter.")
                    .long_about("'rubo swarm filters rm' will remove an address filter from the daemon's swarm.")
                    .arg(many("address", "Multiaddr filter to remove.").required(true))
            },
            |ctx, req| Box::pin(filters(ctx, Some((false, req)))),
            |_| Box::new(FnText(strings_text)),
        ),
        spec(
            "swarm resources",
            || {
                Command::new("resources")
                    .about("Get a summary of all resources accounted for by the connection limits.")
                    .long_about(
                        "Prints the connections, streams and refusals the swarm's limits account for:\n\
                         the current use and how often a peer was refused or cut off.",
                    )
            },
            |ctx, _| Box::pin(resources(ctx)),
            |_| Box::new(crate::output::JsonText),
        ),
        spec(
            "ping",
            || {
                Command::new("ping")
                    .about("Send echo request packets to IPFS hosts.")
                    .long_about(
                        "'rubo ping' is a tool to test sending data to other nodes. It finds nodes\n\
                         via the routing system, sends pings, waits for pongs, and prints out round-\n\
                         trip latency information.",
                    )
                    .arg(
                        Arg::new("peer ID")
                            .help("ID of peer to be pinged.")
                            .required(true)
                            .num_args(1..)
                            .action(ArgAction::Append),
                    )
                    .arg(str_opt("count", "Number of ping messages to send. [default: 10]").short('n'))
            },
            |ctx, req| Box::pin(ping(ctx, req)),
            |_| Box::new(PingText { failed: false }),
        ),
        spec(
            "stats bw",
            || {
                Command::new("bw")
                    .about("Print rubo bandwidth information.")
                    .long_about(
                        "'rubo stats bw' prints bandwidth information for the rubo daemon: total bytes\n\
                         in and out and the current rates.",
                    )
                    .arg(str_opt("peer", "Specify a peer to print bandwidth for.").short('p'))
                    .arg(str_opt("proto", "Specify a protocol to print bandwidth for.").short('t'))
                    .arg(bool_opt("poll", "Print bandwidth at an interval."))
                    .arg(
                        str_opt(
                            "interval",
                            "Time interval to wait between updating output, if 'poll' is true. [default: 1s]",
                        )
                        .short('i'),
                    )
            },
            |ctx, req| Box::pin(stats_bw(ctx, req)),
            |_| Box::new(FnText(bw_text)),
        ),
        Spec {
            path: "shutdown",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || Command::new("shutdown").about("Shut down the rubo daemon."),
            run: |ctx, _| {
                Box::pin(async move {
                    ctx.node()?.request_shutdown()?;
                    Ok(Output::None)
                })
            },
            text: |_| Box::new(crate::output::JsonText),
        },
    ]
}

// ---- swarm peers ----

#[derive(Debug, Default, Serialize, Deserialize)]
struct StreamInfo {
    #[serde(rename = "Protocol")]
    protocol: String,
}

/// Kubo's `IdOutput`, as `swarm peers` embeds it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct IdentifyOut {
    #[serde(rename = "ID")]
    pub(crate) id: String,
    #[serde(rename = "PublicKey")]
    pub(crate) public_key: String,
    #[serde(rename = "Addresses")]
    pub(crate) addresses: Option<Vec<String>>,
    #[serde(rename = "AgentVersion")]
    pub(crate) agent_version: String,
    #[serde(rename = "Protocols")]
    pub(crate) protocols: Option<Vec<String>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ConnInfo {
    #[serde(rename = "Addr")]
    addr: String,
    #[serde(rename = "Peer")]
    peer: String,
    #[serde(rename = "Latency", default, skip_serializing_if = "String::is_empty")]
    latency: String,
    #[serde(rename = "Muxer", default, skip_serializing_if = "String::is_empty")]
    muxer: String,
    /// 1 inbound, 2 outbound (go-libp2p's `network.Direction`).
    #[serde(rename = "Direction", default, skip_serializing_if = "is_zero")]
    direction: u8,
    #[serde(rename = "Streams", default, skip_serializing_if = "Option::is_none")]
    streams: Option<Vec<StreamInfo>>,
    #[serde(rename = "Identify", default)]
    identify: IdentifyOut,
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ConnInfos {
    #[serde(rename = "Peers")]
    peers: Option<Vec<ConnInfo>>,
}

/// Go's `time.Duration.String()`.
fn go_duration(d: Duration) -> String {
    format_duration(d)
}

async fn peers(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let (_, net) = online(&ctx)?;
    let verbose = req.opts.flag("verbose")?;
    let latency = verbose || req.opts.flag("latency")?;
    let streams = verbose || req.opts.flag("streams")?;
    let direction = verbose || req.opts.flag("direction")?;
    let identify = verbose || req.opts.flag("identify")?;
    let list: Vec<PeerInfo> = net.peers().await.map_err(net_err)?;
    let mut out = Vec::new();
    for p in list {
        // Kubo lists one entry per peer, for its first connection.
        let Some(c) = p.connections.first() else { continue };
        let mut ci = ConnInfo { addr: c.remote_addr.to_string(), peer: p.peer.to_string(), ..Default::default() };
        if direction {
            ci.direction = match c.direction {
                Direction::Inbound => 1,
                Direction::Outbound => 2,
            };
        }
        if latency {
            ci.latency = p.latency.map_or_else(|| "n/a".to_string(), go_duration);
        }
        if streams {
            // Substream protocols are negotiated above the muxer, out of
            // the swarm's sight: each open stream is listed without a name.
            let n = p.connections.iter().map(|c| c.inbound_streams + c.outbound_streams).sum::<usize>();
            ci.streams = Some((0..n).map(|_| StreamInfo::default()).collect());
        }
        if identify {
            ci.identify = IdentifyOut {
                id: p.peer.to_string(),
                agent_version: p.agent_version.clone().unwrap_or_default(),
                protocols: (!p.protocols.is_empty()).then(|| {
                    let mut v = p.protocols.clone();
                    v.sort();
                    v
                }),
                ..Default::default()
            };
        }
        out.push(ci);
    }
    out.sort_by(|a, b| a.addr.cmp(&b.addr).then_with(|| a.peer.cmp(&b.peer)));
    Output::value(ConnInfos { peers: (!out.is_empty()).then_some(out) })
}

fn peers_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let ci: ConnInfos = typed(v)?;
    for info in ci.peers.unwrap_or_default() {
        let mut line = format!("{}/p2p/{}", info.addr, info.peer);
        if !info.latency.is_empty() {
            line.push(' ');
            line.push_str(&info.latency);
        }
        match info.direction {
            1 => line.push_str(" inbound"),
            2 => line.push_str(" outbound"),
            _ => {}
        }
        line.push('\n');
        for s in info.streams.unwrap_or_default() {
            let name = if s.protocol.is_empty() { "<no protocol name>".to_string() } else { s.protocol };
            line.push_str(&format!("  {name}\n"));
        }
        p.out(&line)?;
    }
    Ok(())
}

// ---- connect / disconnect ----

#[derive(Debug, Default, Serialize, Deserialize)]
struct Strings {
    #[serde(rename = "Strings")]
    strings: Option<Vec<String>>,
}

fn strings_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let s: Strings = typed(v)?;
    for line in s.strings.unwrap_or_default() {
        p.out(&format!("{line}\n"))?;
    }
    Ok(())
}

fn parse_maddr(s: &str) -> Result<Multiaddr, CmdError> {
    s.parse::<Multiaddr>().map_err(|e| CmdError::client(format!("invalid multiaddr {s:?}: {e}")))
}

/// The peer id a `/p2p/<id>` multiaddr ends with.
fn peer_of(a: &Multiaddr) -> Option<PeerId> {
    a.iter().find_map(|p| match p {
        Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

async fn connect(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let (_, net) = online(&ctx)?;
    if req.args.is_empty() {
        return Err(CmdError::client("argument \"address\" is required"));
    }
    let mut out = Vec::new();
    for a in &req.args {
        let addr = parse_maddr(a)?;
        let Some(peer) = peer_of(&addr) else {
            return Err(CmdError::client(format!("{a}: the address must end with /p2p/<peer id>")));
        };
        net.connect(addr).await.map_err(|e| CmdError::new(format!("connect {peer} failure: {e}")))?;
        out.push(format!("connect {peer} success"));
    }
    Output::value(Strings { strings: Some(out) })
}

async fn disconnect(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let (_, net) = online(&ctx)?;
    if req.args.is_empty() {
        return Err(CmdError::client("argument \"address\" is required"));
    }
    let mut out = Vec::new();
    for a in &req.args {
        let addr = parse_maddr(a)?;
        let who = peer_of(&addr).map_or_else(|| a.clone(), |p| p.to_string());
        match net.disconnect(addr).await {
            Ok(()) => out.push(format!("disconnect {who} success")),
            // Kubo reports a failure in the list and goes on.
            Err(e) => out.push(format!("disconnect {who} failure: {e}")),
        }
    }
    Output::value(Strings { strings: Some(out) })
}

// ---- addrs ----

#[derive(Debug, Default, Serialize, Deserialize)]
struct AddrMap {
    #[serde(rename = "Addrs")]
    addrs: BTreeMap<String, Vec<String>>,
}

async fn addrs(ctx: Ctx) -> Result<Output, CmdError> {
    let (_, net) = online(&ctx)?;
    let known = net.known_addrs().await.map_err(net_err)?;
    let mut m = AddrMap::default();
    for k in known {
        let mut a: Vec<String> = k.addrs.iter().map(ToString::to_string).collect();
        a.sort();
        m.addrs.insert(k.id.to_string(), a);
    }
    Output::value(m)
}

fn addrs_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let m: AddrMap = typed(v)?;
    for (peer, addrs) in m.addrs {
        p.out(&format!("{peer} ({})\n", addrs.len()))?;
        for a in addrs {
            p.out(&format!("\t{a}\n"))?;
        }
    }
    Ok(())
}

async fn addrs_local(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let (node, net) = online(&ctx)?;
    let with_id = req.opts.flag("id")?;
    let me = node.repo().identity().peer_id();
    let mut out: Vec<String> = net
        .announced_addrs()
        .await
        .map_err(net_err)?
        .iter()
        .map(|a| if with_id { format!("{a}/p2p/{me}") } else { a.to_string() })
        .collect();
    out.sort();
    Output::value(Strings { strings: Some(out) })
}

async fn addrs_listen(ctx: Ctx) -> Result<Output, CmdError> {
    let (_, net) = online(&ctx)?;
    let mut out: Vec<String> = net.listen_addrs().await.map_err(net_err)?.iter().map(ToString::to_string).collect();
    out.sort();
    Output::value(Strings { strings: Some(out) })
}

// ---- peering ----

#[derive(Debug, Default, Serialize, Deserialize)]
struct PeeringResult {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Status")]
    status: String,
}

fn peering_text(verb: &str, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let r: PeeringResult = typed(v)?;
    p.out(&format!("{verb} {} {}\n", r.id, r.status))
}

async fn peering_add(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let (_, net) = online(&ctx)?;
    // Parse every address first: Kubo adds none when one is bad.
    let mut by_peer: Vec<(PeerId, Vec<Multiaddr>)> = Vec::new();
    for a in &req.args {
        let addr = parse_maddr(a)?;
        let peer = peer_of(&addr).ok_or_else(|| CmdError::client(format!("{a}: invalid p2p multiaddr")))?;
        let transport: Multiaddr = addr.iter().filter(|p| !matches!(p, Protocol::P2p(_))).collect();
        match by_peer.iter_mut().find(|(p, _)| *p == peer) {
            Some((_, v)) => v.push(transport),
            None => by_peer.push((peer, vec![transport])),
        }
    }
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        for (peer, addrs) in by_peer {
            let r = net
                .peering_add(peer, addrs)
                .await
                .map_err(net_err)
                .and_then(|()| to_value(PeeringResult { id: peer.to_string(), status: "success".into() }));
            let stop = r.is_err();
            if tx.send(r).await.is_err() || stop {
                return;
            }
        }
    });
    Ok(Output::Stream(rx))
}

fn to_value(v: impl Serialize) -> Result<Value, CmdError> {
    serde_json::to_value(v).map_err(|e| CmdError::new(e.to_string()))
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct AddrInfo {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Addrs")]
    addrs: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct AddrInfos {
    #[serde(rename = "Peers")]
    peers: Option<Vec<AddrInfo>>,
}

async fn peering_ls(ctx: Ctx) -> Result<Output, CmdError> {
    let (_, net) = online(&ctx)?;
    let peers: Vec<AddrInfo> = net
        .peering_ls()
        .await
        .map_err(net_err)?
        .into_iter()
        .map(|s| AddrInfo { id: s.peer.to_string(), addrs: s.addrs.iter().map(ToString::to_string).collect() })
        .collect();
    Output::value(AddrInfos { peers: (!peers.is_empty()).then_some(peers) })
}

fn peering_ls_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let ai: AddrInfos = typed(v)?;
    for info in ai.peers.unwrap_or_default() {
        p.out(&format!("{}\n", info.id))?;
        for a in info.addrs {
            p.out(&format!("\t{a}\n"))?;
        }
    }
    Ok(())
}

async fn peering_rm(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let (_, net) = online(&ctx)?;
    let peers: Vec<PeerId> = req
        .args
        .iter()
        .map(|a| a.parse::<PeerId>().map_err(|_| CmdError::client(format!("invalid peer ID {a:?}"))))
        .collect::<Result<_, _>>()?;
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        for peer in peers {
            let r = net
                .peering_rm(peer)
                .await
                .map_err(net_err)
                .and_then(|_| to_value(PeeringResult { id: peer.to_string(), status: "success".into() }));
            let stop = r.is_err();
            if tx.send(r).await.is_err() || stop {
                return;
            }
        }
    });
    Ok(Output::Stream(rx))
}

// ---- filters ----

async fn filters(ctx: Ctx, change: Option<(bool, Request)>) -> Result<Output, CmdError> {
    let (_, net) = online(&ctx)?;
    let Some((add, req)) = change else {
        let list: Vec<String> = net.filters_ls().await.map_err(net_err)?.iter().map(ToString::to_string).collect();
        return Output::value(Strings { strings: Some(list) });
    };
    let mut done = Vec::new();
    for a in &req.args {
        let f = parse_maddr(a)?;
        let changed = if add { net.filters_add(f).await } else { net.filters_rm(f).await }.map_err(net_err)?;
        if !changed && !add {
            return Err(CmdError::new(format!("filter not found: {a}")));
        }
        done.push(a.clone());
    }
    Output::value(Strings { strings: Some(done) })
}

// ---- resources ----

async fn resources(ctx: Ctx) -> Result<Output, CmdError> {
    let (_, net) = online(&ctx)?;
    let s = net.resource_stats().await.map_err(net_err)?;
    let r = &s.refused;
    Ok(Output::Value(serde_json::json!({
        "System": {
            "Peers": s.peers,
            "ConnsInbound": s.connections_inbound,
            "ConnsOutbound": s.connections_outbound,
            "ConnsPendingInbound": s.pending_incoming,
            "ConnsPendingOutbound": s.pending_outgoing,
            "StreamsInbound": s.inbound_streams,
            "StreamsOutbound": s.outbound_streams,
        },
        "Refused": {
            "ConnectionLimit": r.connection_limit,
            "MemoryLimit": r.memory_limit,
            "AddrFilteredInbound": r.addr_filtered_inbound,
            "AddrFilteredOutbound": r.addr_filtered_outbound,
            "HandshakeFailures": r.handshake_failures,
            "StreamsRefused": r.streams_refused,
            "ConnectionsCut": r.connections_cut,
        },
        "ConnMgr": { "Runs": s.conn_mgr_runs, "Trimmed": s.conn_mgr_trimmed },
    })))
}

// ---- ping ----

/// Kubo's `PingResult`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PingResult {
    #[serde(rename = "Success")]
    success: bool,
    /// Nanoseconds.
    #[serde(rename = "Time")]
    time: u64,
    #[serde(rename = "Text")]
    text: String,
}

fn ping_line(success: bool, time: u64, text: impl Into<String>) -> Result<Value, CmdError> {
    to_value(PingResult { success, time, text: text.into() })
}

async fn ping(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let (node, net) = online(&ctx)?;
    let arg = req.arg(0, "peer ID")?.to_string();
    let count = match req.opts.int("count")? {
        None => 10,
        Some(n) if n > 0 => n as usize,
        Some(_) => return Err(CmdError::client("ping count must be greater than 0")),
    };
    // A peer id, or a multiaddr ending with one (dialled first).
    let (peer, addr) = if arg.starts_with('/') {
        let a = parse_maddr(&arg)?;
        let p = peer_of(&a).ok_or_else(|| CmdError::client("the multiaddr must end with /p2p/<peer id>"))?;
        (p, Some(a))
    } else {
        let p = arg
            .parse::<PeerId>()
            .map_err(|e| CmdError::client(format!("failed to parse peer address '{arg}': {e}")))?;
        (p, None)
    };
    if peer == node.repo().identity().peer_id() {
        return Err(CmdError::client("error: can't ping self"));
    }
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        let send = |v: Result<Value, CmdError>| {
            let tx = tx.clone();
            async move { tx.send(v).await.is_ok() }
        };
        if let Some(a) = addr
            && let Err(e) = net.connect(a).await
        {
            let _ = send(Err(CmdError::new(format!("ping failed: {e}")))).await;
            return;
        }
        if !send(ping_line(true, 0, format!("PING {peer}."))).await {
            return;
        }
        let mut session = match net.ping(peer, count).await {
            Ok(s) => s,
            Err(e) => {
                let _ = send(ping_line(false, 0, format!("Ping error: {e}"))).await;
                let _ = send(Err(CmdError::new("ping failed"))).await;
                return;
            }
        };
        let (mut total, mut ok, mut sent) = (Duration::ZERO, 0u32, 0usize);
        while let Some(r) = session.next().await {
            sent += 1;
            let line = match r {
                Ok(rtt) => {
                    total += rtt;
                    ok += 1;
                    ping_line(true, rtt.as_nanos() as u64, "")
                }
                Err(e) => ping_line(false, 0, format!("Ping error: {e}")),
            };
            if !send(line).await {
                return;
            }
            // Kubo waits a second between pings.
            if sent < count {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if ok == 0 {
            let _ = send(Err(CmdError::new("ping failed"))).await;
            return;
        }
        let avg = total / ok;
        let _ = send(ping_line(true, 0, format!("Average latency: {:.2}ms", avg.as_secs_f64() * 1e3))).await;
    });
    Ok(Output::Stream(rx))
}

/// Kubo's ping text: `Pong received: time=1.23 ms` per echo.
struct PingText {
    failed: bool,
}

impl TextEncoder for PingText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let r: PingResult = typed(v)?;
        if !r.success {
            self.failed = true;
        }
        if r.time == 0 {
            return p.out(&format!("{}\n", r.text));
        }
        p.out(&format!("Pong received: time={:.2} ms\n", r.time as f64 / 1e6))
    }
}

// ---- stats bw ----

#[derive(Debug, Default, Serialize, Deserialize)]
struct BwStats {
    #[serde(rename = "TotalIn")]
    total_in: u64,
    #[serde(rename = "TotalOut")]
    total_out: u64,
    #[serde(rename = "RateIn")]
    rate_in: f64,
    #[serde(rename = "RateOut")]
    rate_out: f64,
}

async fn stats_bw(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let (_, net) = match online(&ctx) {
        Ok(x) => x,
        Err(e) => return Err(CmdError::client(format!("unable to run offline: {}", e.message))),
    };
    if req.opts.contains("peer") || req.opts.contains("proto") {
        return Err(CmdError::client(
            "rubo counts bandwidth for the whole node only: --peer and --proto are not supported",
        ));
    }
    let poll = req.opts.flag("poll")?;
    let interval = match req.opts.str("interval") {
        None => Duration::from_secs(1),
        Some(s) => rubo_repo::config::units::parse_duration(s).map_err(CmdError::client)?,
    };
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        loop {
            let v = net.bandwidth().await.map_err(net_err).and_then(|b| {
                to_value(BwStats {
                    total_in: b.total_in,
                    total_out: b.total_out,
                    rate_in: b.rate_in,
                    rate_out: b.rate_out,
                })
            });
            let stop = v.is_err();
            if tx.send(v).await.is_err() || stop || !poll {
                return;
            }
            tokio::time::sleep(interval).await;
        }
    });
    Ok(Output::Stream(rx))
}

fn bw_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let b: BwStats = typed(v)?;
    let h = rubo_repo::config::units::humanize_bytes;
    p.out(&format!(
        "Bandwidth\nTotalIn: {}\nTotalOut: {}\nRateIn: {}/s\nRateOut: {}/s\n",
        h(b.total_in),
        h(b.total_out),
        h(b.rate_in as u64),
        h(b.rate_out as u64)
    ))
}
