//! `rubo pin`: add, rm, ls, update, verify.

use crate::def::{Arg, ArgAction, Command};
use rubo_node::routing::FastProvide;
use rubo_node::{IpfsPath, Node, PinFilter, PinKind};
use rubo_types::Cid;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::output::{FnText, Output, Printer, STREAM_BUFFER, TextEncoder, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt, str_opt};
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![Group {
        path: "pin",
        about: "Pin (and unpin) objects to local storage.",
        long_about: "Pinned objects are kept by garbage collection ('rubo repo gc').",
    }]
}

fn paths_arg(help: &'static str) -> Arg {
    Arg::new("ipfs-path").help(help).num_args(0..).action(ArgAction::Append)
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            path: "pin add",
            repo: RepoUse::Write,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("add")
                    .about("Pin objects to local storage.")
                    .long_about(
                        "Stores an IPFS object(s) from a given path locally to disk.\n\n\
                         Without a daemon the node is offline: every block of the DAG must\n\
                         already be in the repo.",
                    )
                    .arg(paths_arg("Path to object(s) to be pinned."))
                    .arg(
                        bool_opt(
                            "recursive",
                            "Recursively pin the object linked to by the specified object(s). [default: true]",
                        )
                        .short('r'),
                    )
                    .arg(str_opt("name", "An optional name for created pin(s).").short('n'))
                    .arg(bool_opt("progress", "Show progress"))
                    .args(crate::cmd::unixfs::fast_provide_opts(
                        "Immediately provide root CID to DHT after pinning.",
                        "Walk and provide the full DAG according to Provide.Strategy after pinning.",
                    ))
            },
            run: |ctx, req| Box::pin(add(ctx, req)),
            text: |req| Box::new(AddText::new(req)),
        },
        Spec {
            path: "pin rm",
            repo: RepoUse::Write,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("rm")
                    .about("Remove object from pin-list.")
                    .long_about(
                        "Removes the pin from the given object allowing it to be garbage\n\
                         collected if needed. (By default, recursively. Use -r=false for direct pins.)",
                    )
                    .arg(paths_arg("Path to object(s) to be unpinned."))
                    .arg(
                        bool_opt(
                            "recursive",
                            "Recursively unpin the object linked to by the specified object(s). [default: true]",
                        )
                        .short('r'),
                    )
            },
            run: |ctx, req| Box::pin(rm(ctx, req)),
            text: |_| {
                Box::new(FnText(|v, p: &mut Printer<'_>| {
                    let o: PinsOut = typed(v)?;
                    for c in o.pins {
                        p.out(&format!("unpinned {c}\n"))?;
                    }
                    Ok(())
                }))
            },
        },
        Spec {
            path: "pin ls",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("ls")
                    .about("List objects pinned to local storage.")
                    .long_about(
                        "Returns a list of objects that are pinned locally.\n\
                         By default, all pinned objects are returned, but the '--type' flag or\n\
                         arguments can restrict that to a specific pin type or to some specific objects.",
                    )
                    .arg(paths_arg("Path to object(s) to be listed."))
                    .arg(str_opt("type", "The type of pinned keys to list. Can be \"direct\", \"indirect\", \"recursive\", or \"all\". [default: all]").short('t'))
                    .arg(bool_opt("quiet", "Output only the CIDs of pins.").short('q'))
                    .arg(str_opt("name", "Limit returned pins to ones with names that contain the value provided (case-sensitive, partial match). Implies --names=true.").short('n'))
                    .arg(bool_opt("stream", "Enable streaming of pins as they are discovered.").short('s'))
                    .arg(bool_opt("names", "Include pin names in the output (slower, disabled by default)."))
            },
            run: |ctx, req| Box::pin(ls(ctx, req)),
            text: |req| Box::new(LsText::new(req)),
        },
        Spec {
            path: "pin update",
            repo: RepoUse::Write,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("update")
                    .about("Update a recursive pin.")
                    .long_about(
                        "Efficiently pins a new object based on differences from an existing one and,\n\
                         by default, removes the old pin.",
                    )
                    .arg(Arg::new("from-path").help("Path to old object.").required(true))
                    .arg(Arg::new("to-path").help("Path to a new object to be pinned.").required(true))
                    .arg(bool_opt("unpin", "Remove the old pin. [default: true]"))
                    .args(crate::cmd::unixfs::fast_provide_opts(
                        "Immediately provide new root CID to DHT after update.",
                        "Walk and provide the full DAG according to Provide.Strategy after update.",
                    ))
            },
            run: |ctx, req| Box::pin(update(ctx, req)),
            text: |_| {
                Box::new(FnText(|v, p: &mut Printer<'_>| {
                    let o: PinsOut = typed(v)?;
                    if let [from, to] = &o.pins[..] {
                        p.out(&format!("updated {from} to {to}\n"))?;
                    }
                    Ok(())
                }))
            },
        },
        Spec {
            path: "pin verify",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("verify")
                    .about("Verify that recursive pins are complete.")
                    .arg(bool_opt("verbose", "Also write the hashes of non-broken pins."))
                    .arg(bool_opt("quiet", "Write just hashes of broken pins.").short('q'))
            },
            run: |ctx, req| Box::pin(verify(ctx, req)),
            text: |req| Box::new(VerifyText::new(req)),
        },
    ]
}

/// Resolves path arguments to CIDs.
async fn cids_of(node: &Node, args: &[String]) -> Result<Vec<Cid>, CmdError> {
    if args.is_empty() {
        return Err(CmdError::client("argument \"ipfs-path\" is required"));
    }
    let mut out = Vec::new();
    for a in args {
        let p = IpfsPath::parse(a)?;
        out.push(node.unixfs().resolve(&p).await?);
    }
    Ok(out)
}

/// Kubo's `AddPinOutput`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct AddOut {
    #[serde(rename = "Pins", default, skip_serializing_if = "Vec::is_empty")]
    pins: Vec<String>,
    #[serde(rename = "Progress", default, skip_serializing_if = "is_zero")]
    progress: u64,
    #[serde(rename = "Bytes", default, skip_serializing_if = "is_zero")]
    bytes: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Kubo's `PinOutput`.
#[derive(Debug, Serialize, Deserialize)]
struct PinsOut {
    #[serde(rename = "Pins")]
    pins: Vec<String>,
}

async fn add(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let fast = crate::cmd::unixfs::fast_provide(&req, &node)?;
    let recursive = req.opts.bool("recursive")?.unwrap_or(true);
    let name = req.opts.str("name").unwrap_or_default().to_string();
    let progress = req.opts.flag("progress")?;
    let cids = cids_of(&node, &req.args).await?;
    let global = req.global.clone();
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    let mut events = node.pin().add(cids.clone(), recursive, name);
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            match ev {
                Ok(p) if progress => {
                    let v = serde_json::to_value(AddOut { pins: vec![], progress: p.blocks, bytes: p.bytes })
                        .map_err(|e| CmdError::new(e.to_string()));
                    if tx.send(v).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(CmdError::from(e).context("pin"))).await;
                    return;
                }
            }
        }
        fast_provide_after_pin(&node, &cids, fast).await;
        let out = AddOut { pins: cids.iter().map(|c| global.cid(c)).collect(), progress: 0, bytes: 0 };
        let _ = tx.send(serde_json::to_value(out).map_err(|e| CmdError::new(e.to_string()))).await;
    });
    Ok(Output::Stream(rx))
}

struct AddText {
    recursive: bool,
    counting: bool,
}

impl AddText {
    fn new(req: &Request) -> Self {
        Self { recursive: req.opts.bool("recursive").unwrap_or(None).unwrap_or(true), counting: false }
    }
}

impl TextEncoder for AddText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let o: AddOut = typed(v)?;
        if o.pins.is_empty() {
            self.counting = true;
            return p.err(&format!("Fetched/Processed {} nodes ({} bytes)\r", o.progress, o.bytes));
        }
        if self.counting {
            p.err("\n")?;
        }
        let kind = if self.recursive { "recursively" } else { "directly" };
        for c in o.pins {
            p.out(&format!("pinned {c} {kind}\n"))?;
        }
        Ok(())
    }
}

async fn rm(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let recursive = req.opts.bool("recursive")?.unwrap_or(true);
    let cids = cids_of(&node, &req.args).await?;
    node.pin().rm(cids.clone(), recursive).await?;
    Output::value(PinsOut { pins: cids.iter().map(|c| req.global.cid(c)).collect() })
}

/// One pin as `pin ls --stream` sends it (Kubo's `PinLsObject`).
#[derive(Debug, Serialize, Deserialize)]
struct LsObject {
    #[serde(rename = "Cid")]
    cid: String,
    #[serde(rename = "Name", default, skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(rename = "Type")]
    kind: String,
}

async fn ls(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let filter = PinFilter::parse(req.opts.str("type").unwrap_or("all"))?;
    let stream = req.opts.flag("stream")?;
    let name_filter = req.opts.str("name").map(str::to_string);
    let with_names = req.opts.flag("names")? || name_filter.is_some();
    let global = req.global.clone();
    let items: Vec<LsObject>;
    if !req.args.is_empty() {
        let cids = cids_of(&node, &req.args).await?;
        let kinds = node.pin().kinds(cids.clone(), with_names).await?;
        items = {
            let mut out = Vec::new();
            for ((c, a), (kind, name)) in cids.iter().zip(&req.args).zip(kinds) {
                let kind = match (kind, filter) {
                    (Some(k), PinFilter::All) => k,
                    (Some(PinKind::Recursive), PinFilter::Recursive) => PinKind::Recursive,
                    (Some(PinKind::Direct), PinFilter::Direct) => PinKind::Direct,
                    (Some(PinKind::Indirect(r)), PinFilter::Indirect) => PinKind::Indirect(r),
                    _ => return Err(CmdError::new(format!("path '{a}' is not pinned"))),
                };
                let kind = match kind {
                    PinKind::Indirect(root) => format!("indirect through {}", global.cid(&root)),
                    k => k.name().to_string(),
                };
                out.push(LsObject { cid: global.cid(c), name, kind });
            }
            out
        };
    } else {
        let mut pins = node.pin().list(filter, name_filter.clone());
        let mut out = Vec::new();
        while let Some(p) = pins.recv().await {
            let p = p?;
            let kind = match p.kind {
                PinKind::Indirect(_) => "indirect",
                k => k.name(),
            };
            out.push(LsObject {
                cid: global.cid(&p.cid),
                name: if with_names { p.name } else { String::new() },
                kind: kind.to_string(),
            });
        }
        items = out;
    }
    if stream {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        tokio::spawn(async move {
            for it in items {
                if tx.send(serde_json::to_value(it).map_err(|e| CmdError::new(e.to_string()))).await.is_err() {
                    break;
                }
            }
        });
        return Ok(Output::Stream(rx));
    }
    // Kubo's non-streaming shape: {"Keys": {"<cid>": {"Type": ..., "Name": ...}}},
    // Name always there (empty unless names were asked for).
    let mut keys = Map::new();
    for it in items {
        keys.insert(it.cid, json!({"Type": it.kind, "Name": it.name}));
    }
    Ok(Output::Value(json!({ "Keys": keys })))
}

struct LsText {
    quiet: bool,
}

impl LsText {
    fn new(req: &Request) -> Self {
        Self { quiet: req.opts.flag("quiet").unwrap_or(false) }
    }

    /// Kubo: the name only when there is one (no trailing space).
    fn line(&self, cid: &str, kind: &str, name: &str, p: &mut Printer<'_>) -> Result<(), CmdError> {
        if self.quiet {
            p.out(&format!("{cid}\n"))
        } else if name.is_empty() {
            p.out(&format!("{cid} {kind}\n"))
        } else {
            p.out(&format!("{cid} {kind} {name}\n"))
        }
    }
}

impl TextEncoder for LsText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        if let Some(keys) = v.get("Keys").and_then(Value::as_object) {
            for (cid, o) in keys {
                let kind = o.get("Type").and_then(Value::as_str).unwrap_or_default();
                let name = o.get("Name").and_then(Value::as_str).unwrap_or_default();
                self.line(cid, kind, name, p)?;
            }
            return Ok(());
        }
        let o: LsObject = typed(v)?;
        self.line(&o.cid, &o.kind, &o.name, p)
    }
}

async fn update(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let fast = crate::cmd::unixfs::fast_provide(&req, &node)?;
    let unpin = req.opts.bool("unpin")?.unwrap_or(true);
    let from = IpfsPath::parse(req.arg(0, "from-path")?)?;
    let to = IpfsPath::parse(req.arg(1, "to-path")?)?;
    let global = req.global.clone();
    drop(req);
    let from = node.unixfs().resolve(&from).await?;
    let to = node.unixfs().resolve(&to).await?;
    node.pin().update(from, to, unpin).await?;
    fast_provide_after_pin(&node, &[to], fast).await;
    Output::value(PinsOut { pins: vec![global.cid(&from), global.cid(&to)] })
}

/// `--fast-provide-*` once pins are made: best effort, as Kubo's `fastProvideAfterPin` (a
/// failure is logged; the pins stand).
async fn fast_provide_after_pin(node: &Node, cids: &[Cid], fast: FastProvide) {
    if let Err(e) = node.fast_provide(cids, fast, true, false).await {
        tracing::error!("fast provide after pin: {e}");
    }
}

/// Kubo's `PinVerifyRes`.
#[derive(Debug, Serialize, Deserialize)]
struct VerifyOut {
    #[serde(rename = "Cid")]
    cid: String,
    #[serde(rename = "Ok")]
    ok: bool,
    #[serde(rename = "BadNodes", default, skip_serializing_if = "Vec::is_empty")]
    bad: Vec<BadNode>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BadNode {
    #[serde(rename = "Cid")]
    cid: String,
    #[serde(rename = "Err")]
    err: String,
}

async fn verify(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    if req.opts.flag("verbose")? && req.opts.flag("quiet")? {
        return Err(CmdError::client("the --verbose and --quiet options can not be used at the same time"));
    }
    let global = req.global.clone();
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    let mut checked = node.pin().verify();
    tokio::spawn(async move {
        while let Some(r) = checked.recv().await {
            let (root, bad) = match r {
                Ok(x) => x,
                Err(e) => {
                    let _ = tx.send(Err(CmdError::from(e))).await;
                    return;
                }
            };
            let out = VerifyOut {
                cid: global.cid(&root),
                ok: bad.is_empty(),
                bad: bad.into_iter().map(|(c, e)| BadNode { cid: global.cid(&c), err: e }).collect(),
            };
            if tx.send(serde_json::to_value(out).map_err(|e| CmdError::new(e.to_string()))).await.is_err() {
                return;
            }
        }
    });
    Ok(Output::Stream(rx))
}

struct VerifyText {
    verbose: bool,
    quiet: bool,
    broken: bool,
}

impl VerifyText {
    fn new(req: &Request) -> Self {
        Self {
            verbose: req.opts.flag("verbose").unwrap_or(false),
            quiet: req.opts.flag("quiet").unwrap_or(false),
            broken: false,
        }
    }
}

impl TextEncoder for VerifyText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let o: VerifyOut = typed(v)?;
        if o.ok {
            if self.verbose {
                p.out(&format!("{} ok\n", o.cid))?;
            }
            return Ok(());
        }
        self.broken = true;
        if self.quiet {
            return p.out(&format!("{}\n", o.cid));
        }
        p.out(&format!("{} broken\n", o.cid))?;
        for b in o.bad {
            p.out(&format!("  {}: {}\n", b.cid, b.err))?;
        }
        Ok(())
    }

    fn finish(&mut self, _p: &mut Printer<'_>) -> Result<(), CmdError> {
        if self.broken { Err(CmdError::new("some pins are broken")) } else { Ok(()) }
    }
}
