//! `rubo refs`: the links of objects, and every local block.

use crate::def::{Arg, ArgAction, Command};
use rubo_dag::RefsOptions;
use rubo_node::DagPath;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::output::{FnText, Output, Printer, STREAM_BUFFER};
use crate::registry::{ArgKind, Ctx, RepoUse, Spec, TextFn, bool_opt, str_opt};
use crate::{CmdError, Request};

const DEFAULT_FORMAT: &str = "<dst>";

/// Kubo's `RefWrapper` text: the ref, or the error (which ends the command).
fn text() -> TextFn {
    |_| {
        Box::new(FnText(|v: Value, p: &mut Printer<'_>| {
            if let Some(e) = v.get("Err").and_then(Value::as_str).filter(|e| !e.is_empty()) {
                return Err(CmdError::new(e));
            }
            p.out(&format!("{}\n", v.get("Ref").and_then(Value::as_str).unwrap_or_default()))
        }))
    }
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            path: "refs",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("refs")
                    .about("List links (references) from an object.")
                    .long_about(
                        "Lists the hashes of all the links an IPFS or IPNS object(s) contains,\n\
                         with the following format:\n\n  <link base58 hash>\n\n\
                         List all references recursively by using the flag '-r'.",
                    )
                    .arg(
                        Arg::new("ipfs-path")
                            .help("Path to the object(s) to list refs from.")
                            .num_args(0..)
                            .action(ArgAction::Append),
                    )
                    .arg(str_opt(
                        "format",
                        "Emit edges with given format. Available tokens: <src> <dst> <linkname>. [default: <dst>]",
                    ))
                    .arg(bool_opt("edges", "Emit edge format: `<from> -> <to>`.").short('e'))
                    .arg(bool_opt("unique", "Omit duplicate refs from output.").short('u'))
                    .arg(bool_opt("recursive", "Recursively list links of child nodes.").short('r'))
                    .arg(
                        str_opt(
                            "max-depth",
                            "Only for recursive refs, limits fetch and listing to the given depth. [default: -1]",
                        )
                        .allow_hyphen_values(true),
                    )
            },
            run: |ctx, req| Box::pin(refs(ctx, req)),
            text: text(),
        },
        Spec {
            path: "refs local",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("local").about("List all local references.").long_about(
                    "Displays the hashes of all local objects. NOTE: This treats all local objects as \"raw blocks\" and returns CIDv1-Raw CIDs.",
                )
            },
            run: |ctx, req| Box::pin(local(ctx, req)),
            text: text(),
        },
        // Kubo's `repo ls` is `refs local` under another name.
        Spec {
            path: "repo ls",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("ls").about("List all local references.").long_about(
                    "Displays the hashes of all local objects. NOTE: This treats all local objects as \"raw blocks\" and returns CIDv1-Raw CIDs.",
                )
            },
            run: |ctx, req| Box::pin(local(ctx, req)),
            text: text(),
        },
    ]
}

async fn refs(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let unique = req.opts.flag("unique")?;
    let recursive = req.opts.flag("recursive")?;
    let edges = req.opts.flag("edges")?;
    let mut format = req.opts.str("format").unwrap_or(DEFAULT_FORMAT).to_string();
    let max_depth = match req.opts.int("max-depth")?.unwrap_or(-1) {
        _ if !recursive => Some(1),
        d if d < 0 => None,
        d => Some(d as u64),
    };
    if edges {
        if format != DEFAULT_FORMAT {
            return Err(CmdError::client("using format argument with edges is not allowed"));
        }
        format = "<src> -> <dst>".into();
    }
    if req.args.is_empty() {
        return Err(CmdError::client("argument \"ipfs-path\" is required"));
    }
    let paths = req.args.clone();
    let global = req.global.clone();
    // Every path resolves before any output, as in Kubo.
    let mut roots = Vec::with_capacity(paths.len());
    for p in &paths {
        roots.push(node.dag().resolve(DagPath::parse(p)?).await?.cid);
    }
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    let mut items = node.dag().refs(roots, RefsOptions { unique, max_depth });
    tokio::spawn(async move {
        while let Some(item) = items.recv().await {
            let v = match item {
                Ok(r) => {
                    let line = format
                        .replace("<src>", &global.cid(&r.from))
                        .replace("<dst>", &global.cid(&r.to))
                        .replace("<linkname>", &r.name.to_string_lossy());
                    json!({ "Ref": line, "Err": "" })
                }
                Err(rubo_dag::WalkError::Missing(c)) => {
                    json!({ "Ref": "", "Err": rubo_node::NodeError::BlockNotFound(c).to_string() })
                }
                Err(e) => json!({ "Ref": "", "Err": e.to_string() }),
            };
            if tx.send(Ok(v)).await.is_err() {
                return;
            }
        }
    });
    Ok(Output::Stream(rx))
}

async fn local(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let mut cids = ctx.node()?.block().local();
    let global = req.global.clone();
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        while let Some(c) = cids.recv().await {
            let v = match c {
                Ok(c) => Ok(json!({ "Ref": global.cid(&c), "Err": "" })),
                Err(e) => Err(CmdError::new(e.to_string())),
            };
            if tx.send(v).await.is_err() {
                return;
            }
        }
    });
    Ok(Output::Stream(rx))
}
