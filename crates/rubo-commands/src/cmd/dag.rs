//! `rubo dag`: IPLD objects and CAR files.

use crate::def::{Arg, ArgAction, Command};
use bytes::Bytes;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rubo_node::dag::{DagImportOptions, ImportEvent};
use rubo_node::{DagPath, DagPutOptions, DagStatSummary, Node, NodeError};
use rubo_repo::config::units::humanize_bytes;
use rubo_types::{Base, Cid, Version, codec, hash};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::output::{FnText, Output, Printer, STREAM_BUFFER, TextEncoder};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt, str_opt};
use crate::request::Global;
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![Group {
        path: "dag",
        about: "Interact with IPLD DAG objects.",
        long_about: "'rubo dag' is used for creating and manipulating DAG objects/hierarchies.",
    }]
}

const ALLOW_BIG: &str = "Disable block size check and allow creation of blocks bigger than 2MiB. \
     WARNING: such blocks won't be transferable over the standard bitswap. [default: false]";

fn root_args(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).help(help).num_args(0..).action(ArgAction::Append)
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            path: "dag put",
            repo: RepoUse::Write,
            repo_for: None,
            args: ArgKind::Files,
            local_only: false,
            def: || {
                Command::new("put")
                    .about("Add a DAG node to IPFS.")
                    .long_about(
                        "'rubo dag put' accepts input from a file or stdin and parses it\n\
                         into an object of the specified format.",
                    )
                    .arg(root_args("object data", "The object to put"))
                    .arg(str_opt(
                        "store-codec",
                        "Codec that the stored object will be encoded with [default: dag-cbor]",
                    ))
                    .arg(str_opt("input-codec", "Codec that the input object is encoded in [default: dag-json]"))
                    .arg(bool_opt("pin", "Pin this object when adding."))
                    .arg(str_opt("hash", "Hash function to use"))
                    .arg(bool_opt("allow-big-block", ALLOW_BIG))
            },
            run: |ctx, req| Box::pin(put(ctx, req)),
            text: |_| {
                Box::new(FnText(|v: Value, p: &mut Printer<'_>| {
                    let c = v.pointer("/Cid/~1").and_then(Value::as_str).unwrap_or_default();
                    p.out(&format!("{c}\n"))
                }))
            },
        },
        Spec {
            path: "dag get",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("get")
                    .about("Get a DAG node from IPFS.")
                    .long_about(
                        "'rubo dag get' fetches a DAG node from IPFS and prints it out in the specified\nformat.",
                    )
                    .arg(root_args("ref", "The object to get"))
                    .arg(str_opt("output-codec", "Format that the object will be encoded as. [default: dag-json]"))
            },
            run: |ctx, req| Box::pin(get(ctx, req)),
            text: |_| Box::new(crate::output::JsonText),
        },
        Spec {
            path: "dag resolve",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("resolve")
                    .about("Resolve IPLD block.")
                    .long_about(
                        "'rubo dag resolve' fetches a DAG node from IPFS, prints its address and remaining path.",
                    )
                    .arg(root_args("ref", "The path to resolve"))
            },
            run: |ctx, req| Box::pin(resolve(ctx, req)),
            text: |_| {
                Box::new(FnText(|v: Value, p: &mut Printer<'_>| {
                    let c = v.pointer("/Cid/~1").and_then(Value::as_str).unwrap_or_default();
                    let rem = v.get("RemPath").and_then(Value::as_str).unwrap_or_default();
                    // Kubo prints no newline here.
                    if rem.is_empty() { p.out(c) } else { p.out(&format!("{c}/{rem}")) }
                }))
            },
        },
        Spec {
            path: "dag stat",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("stat")
                    .about("Gets stats for a DAG.")
                    .long_about(
                        "'rubo dag stat' fetches a DAG and returns various statistics about it.\n\
                         Statistics include size and number of blocks.\n\n\
                         Note: This command skips duplicate blocks in reporting both size and the number of blocks",
                    )
                    .arg(root_args("root", "CID of a DAG root to get statistics for"))
                    .arg(
                        bool_opt("progress", "Stream progress data. Defaults to true when stderr is a terminal.")
                            .short('p'),
                    )
            },
            run: |ctx, req| Box::pin(stat(ctx, req)),
            text: |req| Box::new(StatText::new(req)),
        },
        Spec {
            path: "dag export",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("export")
                    .about("Streams the selected DAG as a .car stream on stdout.")
                    .long_about(
                        "'rubo dag export' fetches a DAG and streams it out as a well-formed .car file.\n\
                         Note that at present only single root selections / .car files are supported.\n\
                         The output of blocks happens in strict DAG-traversal, first-seen, order.\n\
                         CAR file follows the CARv1 format: https://ipld.io/specs/transport/car/carv1/\n\n\
                         Use --local-only for a best-effort export from the local blockstore: blocks\n\
                         that are missing or unreadable locally (and their subtrees) are skipped, so\n\
                         the resulting CAR is partial. --local-only implies --offline.",
                    )
                    .arg(root_args("root", "CID of a root to recursively export"))
                    .arg(
                        bool_opt("progress", "Stream progress data. Defaults to true when stderr is a terminal.")
                            .short('p'),
                    )
                    .arg(bool_opt(
                        "local-only",
                        "Best-effort export of locally-available blocks; missing or unreadable blocks \
                         (and their subtrees) are skipped. Implies --offline.",
                    ))
            },
            run: |ctx, req| Box::pin(export(ctx, req)),
            text: |req| Box::new(ExportText::new(req)),
        },
        Spec {
            path: "dag import",
            repo: RepoUse::Write,
            repo_for: None,
            args: ArgKind::Files,
            local_only: false,
            def: || {
                Command::new("import")
                    .about("Import the contents of .car files")
                    .long_about(
                        "'rubo dag import' imports all blocks present in supplied .car\n\
                         ( Content Address aRchive ) files, recursively pinning any roots\n\
                         specified in the CAR file headers, unless --pin-roots is set to false.\n\n\
                         Note:\n  \
                           This command will import all blocks in the CAR file, not just those\n  \
                           reachable from the specified roots. However, these other blocks will\n  \
                           not be pinned and may be garbage collected later.\n\n  \
                           The pinning of the roots happens after all car files are processed,\n  \
                           permitting import of DAGs spanning multiple files.\n\n  \
                           Pinning takes place in offline-mode exclusively, one root at a time.\n  \
                           If the combination of blocks from the imported CAR files and what is\n  \
                           currently present in the blockstore does not represent a complete DAG,\n  \
                           pinning of that individual root will fail.\n\n  \
                           Use --local-only to import a partial CAR (e.g. from 'dag export\n  \
                           --local-only'). --local-only implies --pin-roots=false because a partial\n  \
                           CAR has no full DAG to pin.\n\n\
                         FAST PROVIDE OPTIMIZATION:\n\n\
                         Root CIDs from CAR headers are immediately provided to the DHT in addition\n\
                         to the regular provide queue, allowing other peers to discover your content\n\
                         right away (when Provide.Strategy covers them and the daemon has a DHT).\n\n\
                         By default, the provide happens in the background without blocking the\n\
                         command. Use --fast-provide-wait to wait for the provide to complete, or\n\
                         --fast-provide-root=false to skip it. Roots are known here from the pins\n\
                         made: with --pin-roots=false nothing is provided at once.\n\n\
                         Maximum supported CAR version: 2\n\
                         Specification of CAR formats: https://ipld.io/specs/transport/car/",
                    )
                    .arg(root_args("path", "The path of a .car file."))
                    .arg(bool_opt(
                        "pin-roots",
                        "Pin optional roots listed in the .car headers after importing. Default: true.",
                    ))
                    .arg(bool_opt(
                        "local-only",
                        "Import a partial CAR (e.g. from 'dag export --local-only'). Implies --pin-roots=false.",
                    ))
                    .arg(bool_opt("silent", "No output."))
                    .arg(bool_opt("stats", "Output stats."))
                    .args(crate::cmd::unixfs::fast_provide_opts(
                        "Immediately provide root CIDs to DHT in addition to regular queue, for faster discovery.",
                        "Walk and provide the full DAG according to Provide.Strategy after import.",
                    ))
                    .arg(bool_opt("allow-big-block", ALLOW_BIG))
                    .arg(
                        bool_opt("progress", "Show progress on stderr. Defaults to true when stderr is a terminal.")
                            .short('p'),
                    )
            },
            run: |ctx, req| Box::pin(import(ctx, req)),
            text: |req| Box::new(ImportText::new(req)),
        },
    ]
}

/// A codec or hash name as go-multicodec's `Code.Set` takes it.
fn multicodec(name: &str) -> Result<u64, CmdError> {
    codec::code_of(name).ok_or_else(|| CmdError::client(format!("unknown multicodec: {name:?}")))
}

fn cid_json(global: &Global, c: &Cid) -> Value {
    json!({ "/": global.cid(c) })
}

/// Reads one input object, bounded (the block limit is checked on the
/// encoded form; the input may be larger, but not without end).
async fn put(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let input_codec = multicodec(req.opts.str("input-codec").unwrap_or("dag-json"))?;
    let store_codec = multicodec(req.opts.str("store-codec").unwrap_or("dag-cbor"))?;
    let hash_name = match req.opts.str("hash") {
        Some(h) => h.to_string(),
        None => node.repo().config().typed()?.import.hash_function.unwrap_or_else(|| "sha2-256".into()),
    };
    let hash = hash::code_of(&hash_name).map_err(|e| CmdError::client(e.to_string()))?;
    let opts = DagPutOptions {
        input_codec,
        store_codec,
        hash,
        pin: req.opts.flag("pin")?,
        allow_big: req.opts.flag("allow-big-block")?,
    };
    let mut inputs = req.take_inputs("object data")?;
    let global = req.global.clone();
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    let limit: usize = if opts.allow_big { 1 << 30 } else { 64 << 20 };
    tokio::spawn(async move {
        while let Some(file) = inputs.next_file().await {
            let res = async {
                let data = file?.read_up_to(Some(limit)).await?;
                if data.len() > limit {
                    return Err(CmdError::client(format!("input object is larger than {limit} bytes")));
                }
                let c = node.dag().put(data.to_vec(), opts.clone()).await?;
                Ok(json!({ "Cid": cid_json(&global, &c) }))
            }
            .await;
            let stop = res.is_err();
            if tx.send(res).await.is_err() || stop {
                return;
            }
        }
    });
    Ok(Output::Stream(rx))
}

fn one_path(req: &Request, name: &str) -> Result<DagPath, CmdError> {
    Ok(DagPath::parse(req.arg(0, name)?)?)
}

async fn get(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let output = multicodec(req.opts.str("output-codec").unwrap_or("dag-json"))?;
    let path = one_path(&req, "ref")?;
    let data = node.dag().get(path, output).await?;
    // Kubo sends raw outputs as text/plain unless it names another type.
    Ok(Output::bytes("text/plain", Bytes::from(data)))
}

/// The base of a CIDv1 as written, for echoing it back (Kubo's
/// `CidEncoderFromPath`).
fn base_of_arg(arg: &str) -> Option<Base> {
    let s = arg.strip_prefix("/ipfs/").or_else(|| arg.strip_prefix("/ipld/")).unwrap_or(arg);
    let first = s.split('/').next()?;
    if first.len() == 46 && first.starts_with("Qm") {
        return None;
    }
    rubo_types::multibase::from_prefix(first.chars().next()?)
}

async fn resolve(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let arg = req.arg(0, "ref")?.to_string();
    let path = DagPath::parse(&arg)?;
    let r = node.dag().resolve(path).await?;
    let mut global = req.global.clone();
    if global.cid_base.is_none()
        && r.cid.version() == Version::V1
        && let Some(b) = base_of_arg(&arg)
    {
        global.cid_base = Some(b);
    }
    Output::value(json!({ "Cid": cid_json(&global, &r.cid), "RemPath": r.remainder.join("/") }))
}

async fn roots_of(req: &Request, node: &Node) -> Result<Vec<Cid>, CmdError> {
    if req.args.is_empty() {
        return Err(CmdError::client("argument \"root\" is required"));
    }
    let mut roots = Vec::new();
    for a in &req.args {
        let p = DagPath::parse(a)?;
        let r = node.dag().resolve(p).await?;
        if !r.remainder.is_empty() {
            return Err(CmdError::client("cannot return size for anything other than a DAG with a root CID"));
        }
        roots.push(r.cid);
    }
    Ok(roots)
}

/// Go's `encoding/json` form of a float32: shortest digits, integers bare.
fn go_float32(f: f32) -> Value {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        return json!(f as i64);
    }
    serde_json::from_str::<serde_json::Number>(&format!("{f}")).map(Value::Number).unwrap_or(Value::Null)
}

/// Kubo's `DagStatSummary` JSON (zero fields omitted).
fn summary_json(global: &Global, s: &DagStatSummary, last: bool) -> Value {
    let mut m = Map::new();
    let ratio = if last && s.total_size > 0 { s.redundant_size as f32 / s.total_size as f32 } else { 0.0 };
    let shared = if last { s.redundant_size - s.total_size } else { 0 };
    if last && s.unique_blocks > 0 {
        m.insert("UniqueBlocks".into(), json!(s.unique_blocks));
    }
    if s.total_size > 0 {
        m.insert("TotalSize".into(), json!(s.total_size));
    }
    if shared > 0 {
        m.insert("SharedSize".into(), json!(shared));
    }
    if ratio != 0.0 {
        m.insert("Ratio".into(), go_float32(ratio));
    }
    let dags: Vec<Value> = s
        .dags
        .iter()
        .map(|d| {
            let mut o = Map::new();
            o.insert("Cid".into(), json!(global.cid(&d.cid)));
            if d.size > 0 {
                o.insert("Size".into(), json!(d.size));
            }
            if d.blocks > 0 {
                o.insert("NumBlocks".into(), json!(d.blocks));
            }
            Value::Object(o)
        })
        .collect();
    if !dags.is_empty() {
        m.insert("DagStats".into(), Value::Array(dags));
    }
    Value::Object(m)
}

async fn stat(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    // Kubo's CLI turns progress updates into a stderr line and prints only
    // the final summary, in any encoding: updates go out only to a text printer.
    let progress = req.opts.flag("progress")? && req.global.enc == crate::request::Encoding::Text;
    let global = req.global.clone();
    let roots = roots_of(&req, &node).await?;
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    let mut sums = node.dag().stat(roots);
    tokio::spawn(async move {
        let mut last = std::time::Instant::now();
        let mut prev = None;
        // The node sends a summary after each block, the total last.
        while let Some(r) = sums.recv().await {
            match r {
                Ok(s) => {
                    if let Some(p) = prev.replace(s)
                        && progress
                        && last.elapsed() >= std::time::Duration::from_millis(100)
                    {
                        last = std::time::Instant::now();
                        if tx.send(Ok(summary_json(&global, &p, false))).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(CmdError::from(e))).await;
                    return;
                }
            }
        }
        if let Some(s) = prev {
            let _ = tx.send(Ok(summary_json(&global, &s, true))).await;
        }
    });
    Ok(Output::Stream(rx))
}

/// Kubo's `dag stat` text: progress on stderr, the last summary as a table.
struct StatText {
    progress: bool,
    last: Option<Value>,
    drew: bool,
}

impl StatText {
    fn new(req: &Request) -> Self {
        let progress = match req.opts.bool("progress").unwrap_or(None) {
            Some(p) => p,
            None => std::io::IsTerminal::is_terminal(&std::io::stderr()),
        };
        Self { progress, last: None, drew: false }
    }
}

fn u64_at(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

impl TextEncoder for StatText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let is_final = v.get("Ratio").is_some() || v.get("UniqueBlocks").is_some();
        if self.progress && !is_final {
            let dags = v.get("DagStats").and_then(Value::as_array).cloned().unwrap_or_default();
            let blocks: u64 = dags.iter().map(|d| u64_at(d, "NumBlocks")).sum();
            let size: u64 = dags.iter().map(|d| u64_at(d, "Size")).sum();
            p.err(&format!("Fetched/Processed {blocks} blocks, {size} bytes ({})\r", humanize_bytes(size)))?;
            self.drew = true;
        }
        self.last = Some(v);
        Ok(())
    }

    fn finish(&mut self, p: &mut Printer<'_>) -> Result<(), CmdError> {
        if self.drew {
            p.err("\x1b[2K\r")?;
        }
        let Some(v) = self.last.take() else { return Ok(()) };
        let dags = v.get("DagStats").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut s = String::from("\n");
        let width = dags.first().and_then(|d| d.get("Cid")).and_then(Value::as_str).map_or(0, str::len);
        s.push_str(&format!("{:<width$}\t{:<15}\tSize\n", "CID", "Blocks"));
        for d in &dags {
            let cid = d.get("Cid").and_then(Value::as_str).unwrap_or_default();
            s.push_str(&format!("{cid}\t{:<15}\t{}\n", u64_at(d, "NumBlocks"), u64_at(d, "Size")));
        }
        let total = u64_at(&v, "TotalSize");
        let shared = u64_at(&v, "SharedSize");
        let ratio = v.get("Ratio").and_then(Value::as_f64).unwrap_or(0.0) as f32;
        s.push_str(&format!(
            "\nSummary\nTotal Size: {total} ({})\nUnique Blocks: {}\nShared Size: {shared} ({})\nRatio: {ratio:.6}\n\n\n",
            humanize_bytes(total),
            u64_at(&v, "UniqueBlocks"),
            humanize_bytes(shared),
        ));
        p.out(&s)
    }
}

/// Collects bytes into chunks for a bounded channel.
async fn export(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let path = one_path(&req, "root")?;
    let local_only = req.opts.flag("local-only")?;
    // --local-only implies --offline: only what is here is exported.
    let offline = req.global.offline || local_only;
    let node = if offline { node.offline() } else { node };
    // Resolve and check the root first: fail before any output.
    let root = node.dag().resolve(path).await?.cid;
    let mut chunks = node.dag().export(root, local_only).await?;
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        while let Some(c) = chunks.recv().await {
            let e = match c {
                Ok(b) => {
                    if tx.send(Ok(b)).await.is_err() {
                        return;
                    }
                    continue;
                }
                Err(e) => e,
            };
            let msg = match e {
                NodeError::BlockNotFound(_) if offline => {
                    format!("{e} (currently offline, perhaps retry without the offline flag)")
                }
                NodeError::BlockNotFound(_) => {
                    format!("{e} (currently offline, perhaps retry after attaching to the network)")
                }
                e => e.to_string(),
            };
            let _ = tx.send(Err(CmdError::new(msg))).await;
            return;
        }
    });
    Ok(Output::Bytes { content_type: "application/vnd.ipld.car", stream: rx })
}

/// Writes the CAR to stdout; a byte counter on a terminal.
struct ExportText {
    bar: Option<ProgressBar>,
}

fn progress_wanted(req: &Request) -> bool {
    match req.opts.bool("progress").unwrap_or(None) {
        Some(p) => p,
        None => std::io::IsTerminal::is_terminal(&std::io::stderr()),
    }
}

fn byte_bar(template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

impl ExportText {
    fn new(req: &Request) -> Self {
        let bar = progress_wanted(req).then(|| byte_bar("{binary_bytes} {binary_bytes_per_sec} {elapsed}"));
        Self { bar }
    }
}

impl TextEncoder for ExportText {
    fn emit(&mut self, _v: Value, _p: &mut Printer<'_>) -> Result<(), CmdError> {
        Ok(())
    }

    fn bytes(&mut self, chunk: Bytes, p: &mut Printer<'_>) -> Result<bool, CmdError> {
        if let Some(b) = &self.bar {
            b.inc(chunk.len() as u64);
        }
        p.out.write_all(&chunk).map_err(|e| CmdError::new(format!("write: {e}")))?;
        Ok(true)
    }

    fn finish(&mut self, _p: &mut Printer<'_>) -> Result<(), CmdError> {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
        Ok(())
    }
}

async fn import(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let pin_roots = req.opts.bool("pin-roots")?;
    let local_only = req.opts.flag("local-only")?;
    if local_only && pin_roots == Some(true) {
        return Err(CmdError::client(
            "--local-only implies --pin-roots=false and cannot be combined with --pin-roots=true; \
             please drop one of them",
        ));
    }
    let fast = crate::cmd::unixfs::fast_provide(&req, &node)?;
    let opts = DagImportOptions {
        // A partial CAR has no full DAG to pin.
        pin_roots: !local_only && pin_roots.unwrap_or(true),
        allow_big: req.opts.flag("allow-big-block")?,
    };
    let stats = req.opts.flag("stats")?;
    let progress = req.opts.flag("progress")?;
    let files = req.take_inputs("path")?.into_blocking_files();
    let global = req.global.clone();
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    let pinned = opts.pin_roots;
    let mut events = node.dag().import(files, opts);
    tokio::spawn(async move {
        let mut roots = Vec::new();
        while let Some(ev) = events.recv().await {
            let ev = match ev {
                Ok(ev) => ev,
                Err(e) => {
                    let _ = tx.send(Err(CmdError::from(e))).await;
                    return;
                }
            };
            if let ImportEvent::Root { cid, .. } = &ev {
                roots.push(*cid);
            }
            let v = match ev {
                ImportEvent::Progress { blocks, bytes } if progress => {
                    json!({ "Progress": { "Blocks": blocks, "Bytes": bytes } })
                }
                ImportEvent::Progress { .. } => continue,
                ImportEvent::Root { cid, error } => {
                    json!({ "Root": { "Cid": cid_json(&global, &cid), "PinErrorMsg": error.unwrap_or_default() } })
                }
                ImportEvent::Stats { .. } if !stats => continue,
                ImportEvent::Stats { blocks, bytes } => {
                    json!({ "Stats": { "BlockCount": blocks, "BlockBytesCount": bytes } })
                }
            };
            if tx.send(Ok(v)).await.is_err() {
                return;
            }
        }
        // Kubo's `--fast-provide-*` after the import (a failure counts with --fast-provide-wait).
        if let Err(e) = node.fast_provide(&roots, fast, pinned, false).await {
            let _ = tx.send(Err(CmdError::from(e))).await;
        }
    });
    Ok(Output::Stream(rx))
}

/// Kubo's `dag import` text: `Pinned root` lines, stats, errors.
struct ImportText {
    silent: bool,
    stats: bool,
    bar: Option<ProgressBar>,
}

impl ImportText {
    fn new(req: &Request) -> Self {
        let silent = req.opts.flag("silent").unwrap_or(false);
        Self {
            silent,
            stats: req.opts.flag("stats").unwrap_or(false),
            bar: (req.opts.flag("progress").unwrap_or(false) && !silent)
                .then(|| byte_bar("{msg} {binary_bytes} {binary_bytes_per_sec} {elapsed}")),
        }
    }
}

impl TextEncoder for ImportText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        if let Some(pr) = v.get("Progress") {
            if let Some(b) = &self.bar {
                b.set_position(u64_at(pr, "Bytes"));
                b.set_message(format!("{} blocks", u64_at(pr, "Blocks")));
            }
            return Ok(());
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if self.silent {
            return Ok(());
        }
        if let Some(s) = v.get("Stats") {
            if self.stats {
                p.out(&format!(
                    "Imported {} blocks ({} bytes)\n",
                    u64_at(s, "BlockCount"),
                    u64_at(s, "BlockBytesCount")
                ))?;
            }
            return Ok(());
        }
        let Some(r) = v.get("Root") else {
            return Err(CmdError::new("unexpected message from DAG import"));
        };
        let cid = r.pointer("/Cid/~1").and_then(Value::as_str).unwrap_or_default();
        let err = r.get("PinErrorMsg").and_then(Value::as_str).unwrap_or_default();
        if !err.is_empty() {
            return Err(CmdError::new(format!("pinning root \"{cid}\" FAILED: {err}")));
        }
        p.out(&format!("Pinned root\t{cid}\tsuccess\n"))
    }

    fn finish(&mut self, _p: &mut Printer<'_>) -> Result<(), CmdError> {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_forms() {
        assert_eq!(go_float32(1.0).to_string(), "1");
        assert_eq!(go_float32(106.0 / 99.0).to_string(), "1.0707071");
        assert_eq!(go_float32(0.5).to_string(), "0.5");
    }
}
