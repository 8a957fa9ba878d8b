//! `bitswap stat|wantlist|ledger|reprovide` and `stats bitswap`, with Kubo's
//! JSON shapes and text forms (`core/commands/bitswap.go`). They read the
//! daemon's Bitswap: on an offline node they answer Kubo's online-mode error.

use rubo_node::rubo_bitswap::{Bitswap, Stat};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cmd::swarm::spec;
use crate::def::Command;
use crate::output::{FnText, Output, Printer, typed};
use crate::registry::{Ctx, Group, Spec, bool_opt, str_opt};
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![Group { path: "bitswap", about: "Interact with the bitswap agent.", long_about: "" }]
}

fn stat_def(name: &'static str) -> Command {
    Command::new(name)
        .about("Show some diagnostic information on the bitswap agent.")
        .long_about("Show some diagnostic information on the bitswap agent.")
        .arg(bool_opt("verbose", "Print extra information").short('v'))
        .arg(bool_opt("human", "Print sizes in human readable format (e.g., 1K 234M 2G)"))
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        spec("bitswap stat", || stat_def("stat"), |ctx, req| Box::pin(stat(ctx, req)), stat_text),
        spec("stats bitswap", || stat_def("bitswap"), |ctx, req| Box::pin(stat(ctx, req)), stat_text),
        spec(
            "bitswap wantlist",
            || {
                Command::new("wantlist")
                    .about("Show blocks currently on the wantlist.")
                    .long_about("Print out all blocks currently on the bitswap wantlist for the local peer.")
                    .arg(str_opt("peer", "Specify which peer to show wantlist for.").short('p'))
            },
            |ctx, req| Box::pin(wantlist(ctx, req)),
            |_| Box::new(FnText(wantlist_text)),
        ),
        spec(
            "bitswap ledger",
            || {
                Command::new("ledger")
                    .about("Show the current ledger for a peer.")
                    .long_about(
                        "The Bitswap decision engine tracks the number of bytes exchanged between rubo\n\
                         and each of its peers. This command prints the ledger for one peer: bytes sent\n\
                         and received, and their ratio.",
                    )
                    .arg(crate::def::Arg::new("peer").help("The PeerID (B58) of the ledger to inspect.").required(true))
            },
            |ctx, req| Box::pin(ledger(ctx, req)),
            |_| Box::new(FnText(ledger_text)),
        ),
        spec(
            "bitswap reprovide",
            || {
                Command::new("reprovide")
                    .about("Trigger reprovider.")
                    .long_about("Trigger reprovider to announce our data to network.")
            },
            |ctx, _req| Box::pin(reprovide(ctx)),
            |_| Box::new(FnText(no_text)),
        ),
    ]
}

fn bitswap(ctx: &Ctx) -> Result<Bitswap, CmdError> {
    Ok(ctx.node()?.bitswap()?.clone())
}

/// `bitswap stat` as it travels: `Stat` with CIDs already in the chosen base.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatOut {
    provide_buf_len: i64,
    wantlist: Vec<Link>,
    peers: Vec<String>,
    blocks_received: u64,
    data_received: u64,
    blocks_sent: u64,
    data_sent: u64,
    dup_blks_received: u64,
    dup_data_received: u64,
    messages_received: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Link {
    #[serde(rename = "/")]
    cid: String,
}

async fn stat(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let bs = bitswap(&ctx)?;
    let s: Stat = bs.stat();
    Output::value(StatOut {
        provide_buf_len: s.provide_buf_len,
        wantlist: s.wantlist.iter().map(|c| Link { cid: req.global.cid(c) }).collect(),
        peers: s.peers,
        blocks_received: s.blocks_received,
        data_received: s.data_received,
        blocks_sent: s.blocks_sent,
        data_sent: s.data_sent,
        dup_blks_received: s.dup_blks_received,
        dup_data_received: s.dup_data_received,
        messages_received: s.messages_received,
    })
}

/// Kubo's HasBlockBufferSize, printed beside the (always empty) provide buffer.
const PROVIDE_BUFFER: i64 = 256;

fn stat_text(req: &Request) -> Box<dyn crate::output::TextEncoder> {
    let verbose = req.opts.flag("verbose").unwrap_or(false);
    let human = req.opts.flag("human").unwrap_or(false);
    Box::new(FnText(move |v: Value, p: &mut Printer<'_>| {
        let s: StatOut = typed(v)?;
        let size = |n: u64| if human { rubo_repo::config::units::humanize_bytes(n) } else { n.to_string() };
        let mut o = String::from("bitswap status\n");
        o += &format!("\tprovides buffer: {} / {PROVIDE_BUFFER}\n", s.provide_buf_len);
        o += &format!("\tblocks received: {}\n", s.blocks_received);
        o += &format!("\tblocks sent: {}\n", s.blocks_sent);
        o += &format!("\tdata received: {}\n", size(s.data_received));
        o += &format!("\tdata sent: {}\n", size(s.data_sent));
        o += &format!("\tdup blocks received: {}\n", s.dup_blks_received);
        o += &format!("\tdup data received: {}\n", size(s.dup_data_received));
        o += &format!("\twantlist [{} keys]\n", s.wantlist.len());
        for k in &s.wantlist {
            o += &format!("\t\t{}\n", k.cid);
        }
        o += &format!("\tpartners [{}]\n", s.peers.len());
        if verbose {
            for peer in &s.peers {
                o += &format!("\t\t{peer}\n");
            }
        }
        p.out(&o)
    }))
}

#[derive(Debug, Serialize, Deserialize)]
struct KeyList {
    #[serde(rename = "Keys")]
    keys: Vec<Link>,
}

async fn wantlist(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let bs = bitswap(&ctx)?;
    let peer = match req.opts.str("peer") {
        Some(p) => Some(crate::cmd::id::parse_peer(p)?),
        None => None,
    };
    let keys = bs.wantlist(peer).iter().map(|c| Link { cid: req.global.cid(c) }).collect();
    Output::value(KeyList { keys })
}

fn wantlist_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let l: KeyList = typed(v)?;
    let mut o = String::new();
    for k in l.keys {
        o += &k.cid;
        o.push('\n');
    }
    p.out(&o)
}

async fn ledger(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let bs = bitswap(&ctx)?;
    let arg = req.args.first().ok_or_else(|| CmdError::client("argument \"peer\" is required"))?;
    let peer = crate::cmd::id::parse_peer(arg)?;
    Output::value(bs.ledger(peer))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LedgerIn {
    peer: String,
    value: f64,
    sent: u64,
    recv: u64,
    exchanged: u64,
}

fn ledger_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let l: LedgerIn = typed(v)?;
    // Go's %f: six decimals.
    p.out(&format!(
        "Ledger for {}\nDebt ratio:\t{:.6}\nExchanges:\t{}\nBytes sent:\t{}\nBytes received:\t{}\n\n",
        l.peer, l.value, l.exchanged, l.sent, l.recv
    ))
}

fn no_text(_: Value, _: &mut Printer<'_>) -> Result<(), CmdError> {
    Ok(())
}

async fn reprovide(ctx: Ctx) -> Result<Output, CmdError> {
    // Online only, as Kubo: a sweep of everything the strategy covers, started now.
    let _ = bitswap(&ctx)?;
    ctx.node()?.reprovide_now()?;
    Ok(Output::None)
}
