//! `rubo block`: raw blocks.

use crate::def::{Arg, ArgAction, Command};
use rubo_node::{BlockStat, PutOptions};
use rubo_types::{BLOCK_SIZE_LIMIT, Bytes, Version, codec, hash};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::output::{FnText, Output, Printer, STREAM_BUFFER, TextEncoder, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt, str_opt};
use crate::{CmdError, Request, cid_arg};

pub(crate) fn groups() -> Vec<Group> {
    vec![Group {
        path: "block",
        about: "Interact with raw IPFS blocks.",
        long_about: "'rubo block' is a plumbing command used to manipulate raw IPFS blocks.\n\
            Reads from stdin or writes to stdout. A block is identified by a Multihash\n\
            passed with a valid CID.",
    }]
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            path: "block put",
            repo_for: None,
            repo: RepoUse::Write,
            args: ArgKind::Files,
            local_only: false,
            def: || {
                Command::new("put")
                    .about("Store input as an IPFS block.")
                    .long_about(
                        "'rubo block put' is a plumbing command for storing raw IPFS blocks.\n\
                         It reads data from stdin or the files given, and outputs each block's CID.\n\n\
                         Unless --cid-codec is given, the CIDs are raw (0x55) CIDv1.\n\
                         The data is stored as given, whatever the codec: commands that\n\
                         decode the block later (dag get, refs, pin add...) report data that\n\
                         is not valid for it.",
                    )
                    .arg(
                        Arg::new("data")
                            .help("The data to be stored as an IPFS block.")
                            .num_args(0..)
                            .action(ArgAction::Append),
                    )
                    .arg(str_opt("cid-codec", "Multicodec to use in returned CID [default: raw]"))
                    .arg(str_opt("mhtype", "Multihash hash function [default: sha2-256]"))
                    .arg(str_opt("mhlen", "Multihash hash length [default: -1]").allow_hyphen_values(true))
                    .arg(bool_opt("pin", "Pin added blocks recursively [default: false]"))
                    .arg(bool_opt(
                        "allow-big-block",
                        "Disable block size check and allow creation of blocks bigger than 2MiB. \
                         WARNING: such blocks won't be transferable over the standard bitswap. [default: false]",
                    ))
                    .arg(str_opt("format", "Use legacy format for returned CID (DEPRECATED)").short('f'))
            },
            run: |ctx, req| Box::pin(put(ctx, req)),
            text: |_| Box::new(FnText(|v, p: &mut Printer<'_>| p.out(&format!("{}\n", typed::<StatOut>(v)?.key)))),
        },
        Spec {
            path: "block get",
            repo_for: None,
            repo: RepoUse::Read,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("get")
                    .about("Get a raw IPFS block.")
                    .long_about("'rubo block get' is a plumbing command for retrieving raw IPFS blocks.\nIt takes a <cid>, and outputs the block to stdout.")
                    .arg(Arg::new("cid").help("The CID of an existing block to get."))
            },
            run: |ctx, req| Box::pin(get(ctx, req)),
            text: |_| Box::new(crate::output::JsonText),
        },
        Spec {
            path: "block stat",
            repo_for: None,
            repo: RepoUse::Read,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("stat")
                    .about("Print information of a raw IPFS block.")
                    .long_about(
                        "'rubo block stat' is a plumbing command for retrieving information\n\
                         on raw IPFS blocks. It outputs the following to stdout:\n\n\
                         \tKey  - the CID of the block\n\tSize - the size of the block in bytes",
                    )
                    .arg(Arg::new("cid").help("The CID of an existing block to stat."))
            },
            run: |ctx, req| Box::pin(stat(ctx, req)),
            text: |_| {
                Box::new(FnText(|v, p: &mut Printer<'_>| {
                    let s: StatOut = typed(v)?;
                    p.out(&format!("Key: {}\nSize: {}\n", s.key, s.size))
                }))
            },
        },
        Spec {
            path: "block rm",
            repo_for: None,
            repo: RepoUse::Write,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("rm")
                    .about("Remove IPFS block(s) from the local datastore.")
                    .long_about("'rubo block rm' is a plumbing command for removing raw ipfs blocks.\nIt takes a list of CIDs to remove from the local datastore.")
                    .arg(Arg::new("cid").help("CIDs of block(s) to remove.").required(true).num_args(1..).action(ArgAction::Append))
                    .arg(bool_opt("force", "Ignore nonexistent blocks.").short('f'))
                    .arg(bool_opt("quiet", "Write minimal output.").short('q'))
            },
            run: |ctx, req| Box::pin(rm(ctx, req)),
            text: |_| Box::new(RmText { failed: false }),
        },
    ]
}

/// Kubo's `BlockStat` JSON.
#[derive(Debug, Serialize, Deserialize)]
struct StatOut {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Size")]
    size: u64,
}

fn stat_out(g: &crate::Global, s: &BlockStat) -> StatOut {
    StatOut { key: g.cid(&s.cid), size: s.size }
}

/// Reads a whole input, refusing more than `limit` bytes without buffering them.
fn put_options(req: &Request, node: &rubo_node::Node) -> Result<PutOptions, CmdError> {
    let mhtype = match req.opts.str("mhtype") {
        Some(m) => m.to_string(),
        None => node.repo().config().typed()?.import.hash_function.unwrap_or_else(|| "sha2-256".into()),
    };
    let hash = hash::code_of(&mhtype).map_err(|e| CmdError::client(e.to_string()))?;
    let mhlen = req.opts.int("mhlen")?.unwrap_or(-1);
    let hash_len = match mhlen {
        l if l < 0 => None,
        l => Some(usize::try_from(l).map_err(|_| CmdError::client(format!("invalid mhlen {l}")))?),
    };
    let mut codec_name = req.opts.str("cid-codec").unwrap_or("raw").to_string();
    let mut version = Version::V1;
    if let Some(format) = req.opts.str("format") {
        if !matches!(req.opts.str("cid-codec"), None | Some("raw")) {
            return Err(CmdError::client(
                "unable to use \"format\" (deprecated) and a custom \"cid-codec\" at the same time",
            ));
        }
        codec_name = match format {
            "v0" => {
                version = Version::V0;
                "dag-pb".into()
            }
            "protobuf" => "dag-pb".into(),
            "cbor" => "dag-cbor".into(),
            f => f.to_string(),
        };
        if version == Version::V0 && (hash != hash::SHA2_256 || hash_len.is_some_and(|l| l != 32)) {
            return Err(CmdError::client("only sha2-256-32 is allowed with CIDv0"));
        }
    }
    let codec =
        codec::code_of(&codec_name).ok_or_else(|| CmdError::client(format!("unknown multicodec: {codec_name:?}")))?;
    let hash_len = if hash == hash::IDENTITY { None } else { hash_len };
    Ok(PutOptions {
        codec,
        hash,
        hash_len,
        version,
        allow_big: req.opts.flag("allow-big-block")?,
        pin: req.opts.flag("pin")?,
    })
}

async fn put(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let opts = put_options(&req, &node)?;
    let mut inputs = req.take_inputs("data")?;
    let global = req.global.clone();
    let limit = (!opts.allow_big).then_some(BLOCK_SIZE_LIMIT);
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        while let Some(file) = inputs.next_file().await {
            let res = async {
                let data = file?.read_up_to(limit).await?;
                if limit.is_some_and(|l| data.len() > l) {
                    return Err(CmdError::client(rubo_node::BIG_BLOCK_ERROR));
                }
                let st = node.block().put(Bytes::from(data), opts.clone()).await?;
                serde_json::to_value(stat_out(&global, &st)).map_err(|e| CmdError::new(e.to_string()))
            }
            .await;
            let stop = res.is_err();
            // Each CID is reported only once its block is durable.
            if tx.send(res).await.is_err() || stop {
                return;
            }
        }
    });
    Ok(Output::Stream(rx))
}

async fn get(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let cid = cid_arg(req.arg(0, "cid")?)?;
    let block = ctx.node()?.block().get(&cid).await?;
    Ok(Output::bytes("application/vnd.ipld.raw", block.data().clone()))
}

async fn stat(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let cid = cid_arg(req.arg(0, "cid")?)?;
    let st = ctx.node()?.block().stat(&cid).await?;
    Output::value(stat_out(&req.global, &st))
}

/// Kubo's `removedBlock` JSON.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Removed {
    #[serde(rename = "Hash", default, skip_serializing_if = "String::is_empty")]
    hash: String,
    #[serde(rename = "Error", default, skip_serializing_if = "String::is_empty")]
    error: String,
}

async fn rm(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let force = req.opts.flag("force")?;
    let quiet = req.opts.flag("quiet")?;
    let mut cids = Vec::new();
    for a in &req.args {
        cids.push(cid_arg(a)?);
    }
    let global = req.global.clone();
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        let results = match node.block().rm(cids, force).await {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Err(CmdError::from(e))).await;
                return;
            }
        };
        for (cid, res) in results {
            let hash = global.cid(&cid);
            let item = match res {
                Ok(()) if quiet => continue,
                Ok(()) => Removed { hash, error: String::new() },
                Err(e) => Removed { hash, error: e.to_string() },
            };
            let v = serde_json::to_value(item).map_err(|e| CmdError::new(e.to_string()));
            if tx.send(v).await.is_err() {
                return;
            }
        }
    });
    Ok(Output::Stream(rx))
}

/// Kubo's PostRun for `block rm`: failures to stderr, a final error if any failed.
struct RmText {
    failed: bool,
}

impl TextEncoder for RmText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let r: Removed = typed(v)?;
        if r.hash.is_empty() && !r.error.is_empty() {
            return Err(CmdError::new(format!("aborted: {}", r.error)));
        }
        if !r.error.is_empty() {
            self.failed = true;
            p.err(&format!("cannot remove {}: {}\n", r.hash, r.error))
        } else {
            p.out(&format!("removed {}\n", r.hash))
        }
    }

    fn finish(&mut self, _p: &mut Printer<'_>) -> Result<(), CmdError> {
        if self.failed { Err(CmdError::new("some blocks not removed")) } else { Ok(()) }
    }
}
