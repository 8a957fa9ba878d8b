//! `rubo add`, `cat`, `ls`: UnixFS in and out.

use crate::def::{Arg, ArgAction, Command};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rubo_node::routing::FastProvide;
use rubo_node::rubo_unixfs::CidPrefix;
use rubo_node::rubo_unixfs::chunker::ChunkerSpec;
use rubo_node::rubo_unixfs::dir::{DirOptions, SizeEstimation};
use rubo_node::rubo_unixfs::file::{FileOptions, Layout};
use rubo_node::rubo_unixfs::import::{Event, ImportOptions};
use rubo_node::rubo_unixfs::pb::UnixTime;
use rubo_node::{AddOptions, IpfsPath, LsKind, Node};
use rubo_repo::config::units::parse_bytes;
use rubo_types::{ByteSlice, Version, hash};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::output::{Output, Printer, STREAM_BUFFER, TextEncoder, typed};
use crate::registry::{ArgKind, Ctx, RepoUse, Spec, bool_opt, str_opt};
use crate::text::{TabWriter, esc_non_print};
use crate::{CmdError, Request};

/// Kubo's `AddEvent`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct AddEventOut {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Hash", default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
    #[serde(rename = "Bytes", default, skip_serializing_if = "is_zero")]
    pub bytes: i64,
    #[serde(rename = "Size", default, skip_serializing_if = "String::is_empty")]
    pub size: String,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            path: "add",
            repo: RepoUse::Write,
            repo_for: Some(
                |req| if req.opts.flag("only-hash").unwrap_or(false) { RepoUse::Read } else { RepoUse::Write },
            ),
            args: ArgKind::Tree,
            local_only: false,
            def: add_def,
            run: |ctx, req| Box::pin(add(ctx, req)),
            text: |req| Box::new(AddText::new(req)),
        },
        Spec {
            path: "cat",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("cat")
                    .about("Show IPFS object data.")
                    .long_about("Displays the data contained by an IPFS or IPNS object(s) at the given path.")
                    .arg(
                        Arg::new("ipfs-path")
                            .help("The path to the IPFS object(s) to be outputted.")
                            .num_args(0..)
                            .action(ArgAction::Append),
                    )
                    .arg(str_opt("offset", "Byte offset to begin reading from.").short('o'))
                    .arg(str_opt("length", "Maximum number of bytes to read.").short('l'))
                    .arg(bool_opt("progress", "Stream progress data. [default: true]").short('p'))
            },
            run: |ctx, req| Box::pin(cat(ctx, req)),
            text: |_| Box::new(crate::output::JsonText),
        },
        Spec {
            path: "ls",
            repo: RepoUse::Read,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("ls")
                    .about("List directory contents for Unix filesystem objects.")
                    .long_about(
                        "Displays the contents of an IPFS or IPNS object(s) at the given path, with\n\
                         the following format:\n\n  <cid> <size> <name>\n\n\
                         With the --long (-l) option, display optional file mode (permissions) and\n\
                         modification time in a format similar to Unix 'ls -l':\n\n  \
                         <mode> <cid> <size> <mtime> <name>\n\n\
                         The JSON output contains type information.",
                    )
                    .arg(
                        Arg::new("ipfs-path")
                            .help("The path to the IPFS object(s) to list links from.")
                            .num_args(0..)
                            .action(ArgAction::Append),
                    )
                    .arg(bool_opt("headers", "Print table headers (Hash, Size, Name).").short('v'))
                    .arg(bool_opt("resolve-type", "Resolve linked objects to find out their types. [default: true]"))
                    .arg(bool_opt("size", "Resolve linked objects to find out their file size. [default: true]"))
                    .arg(
                        bool_opt("stream", "Enable experimental streaming of directory entries as they are traversed.")
                            .short('s'),
                    )
                    .arg(
                        bool_opt("long", "Use a long listing format, showing file mode and modification time.")
                            .short('l'),
                    )
            },
            run: |ctx, req| Box::pin(ls(ctx, req)),
            text: |req| Box::new(LsText::new(req)),
        },
    ]
}

/// Kubo's `--fast-provide-root`, `--fast-provide-dag` and `--fast-provide-wait`, on `add`,
/// `dag import`, `pin add` and `pin update`.
pub(crate) fn fast_provide_opts(root: &'static str, dag: &'static str) -> [Arg; 3] {
    [
        bool_opt("fast-provide-root", root).long_help(format!(
            "{root} Default: Import.FastProvideRoot (true). Only content Provide.Strategy covers is \
             announced; skipped when the node does not provide (offline, no DHT, Provide.Enabled false)."
        )),
        bool_opt("fast-provide-dag", dag).long_help(format!(
            "{dag} Default: Import.FastProvideDAG (false). Only with strategies that walk DAGs (pinned, \
             mfs): the blocks are queued for the provider as the strategy walks them."
        )),
        bool_opt("fast-provide-wait", "Block until the immediate provide completes before returning.").long_help(
            "Block until the immediate provide completes before returning. Default: Import.FastProvideWait \
             (false). With --fast-provide-root, a failed announcement fails the command; with \
             --fast-provide-dag, the walk is done (its blocks queued) before the command returns.",
        ),
    ]
}

/// The fast-provide options, read (a bad value is an error as in Kubo) and resolved against
/// `Import.FastProvide*`.
pub(crate) fn fast_provide(req: &Request, node: &Node) -> Result<FastProvide, CmdError> {
    let (root, dag, wait) =
        (req.opts.bool("fast-provide-root")?, req.opts.bool("fast-provide-dag")?, req.opts.bool("fast-provide-wait")?);
    Ok(FastProvide::resolve(node.repo().config().doc(), root, dag, wait))
}

fn add_def() -> Command {
    Command::new("add")
        .about("Add a file or directory to IPFS.")
        .long_about(
            "Adds the content of <path> to IPFS. Use -r to add directories.\n\
             Note that directories are added recursively, to form the IPFS\n\
             MerkleDAG.\n\n\
             The CIDs are Kubo's for the same settings: CIDv0, sha2-256, 256 KiB\n\
             chunks, balanced layout with 174 links per node, HAMT-sharded\n\
             directories above 256 KiB, unless flags or Import.* config say otherwise.\n\n\
             Hidden files (names starting with '.') are skipped unless -H is given or\n\
             they are named on the command line.\n\n\
             CONTENT DISCOVERABILITY:\n\n\
             How quickly other peers can find your content depends on Provide.Strategy:\n\n  \
               Provide.Strategy=all (default):\n    \
                 Every block is announced to the routing system as it is written to\n    \
                 the blockstore. Content is discoverable immediately.\n\n  \
               Selective strategies (pinned, mfs, pinned+mfs):\n    \
                 Only the root CID is announced immediately after 'rubo add'.\n    \
                 Remaining blocks are announced during the next reprovide cycle\n    \
                 (Provide.DHT.Interval, default 22h).\n\n\
             FAST PROVIDE FLAGS:\n\n  \
               --fast-provide-root (default: enabled)\n    \
                 Announce the root CID to the routing system immediately after add,\n    \
                 in addition to the regular provide queue. Runs in the background\n    \
                 without blocking.\n\n  \
               --fast-provide-dag (default: disabled)\n    \
                 Walk and provide the full DAG immediately after add, using the\n    \
                 active Provide.Strategy to determine scope. No effect with\n    \
                 Provide.Strategy=all (every block is provided on write).\n\n  \
               --fast-provide-wait (default: disabled)\n    \
                 Block until the immediate provide completes before returning.\n\n\
             All fast-provide flags need a running daemon with a DHT; offline they\n\
             do nothing.",
        )
        .arg(Arg::new("path").help("The path to a file to be added to IPFS.").num_args(0..).action(ArgAction::Append))
        .arg(bool_opt("recursive", "Add directory paths recursively.").short('r'))
        .arg(bool_opt("dereference-args", "DEPRECATED: use --dereference-symlinks instead. Only dereferences symlinks in CLI arguments, not inside directories."))
        .arg(bool_opt("dereference-symlinks", "Symlinks supplied in arguments are dereferenced; symlinks within are added as such."))
        .arg(str_opt("stdin-name", "Assign a name if the file source is stdin."))
        .arg(bool_opt("hidden", "Include files that are hidden. Only takes effect on recursive add.").short('H'))
        .arg(
            Arg::new("ignore")
                .long("ignore")
                .help("A rule (.gitignore-stype) defining which file(s) should be ignored (variadic, experimental).")
                .num_args(1)
                .action(ArgAction::Append),
        )
        .arg(str_opt("ignore-rules-path", "A path to a file with .gitignore-style ignore rules (experimental)."))
        .arg(bool_opt("empty-dirs", "Include empty directories in the import. [default: true]").short('E'))
        .arg(bool_opt("quiet", "Write minimal output.").short('q'))
        .arg(bool_opt("quieter", "Write only final hash.").short('Q'))
        .arg(bool_opt("silent", "Write no output."))
        .arg(bool_opt("progress", "Stream progress data. Defaults to true when stderr is a terminal.").short('p'))
        .arg(bool_opt("only-hash", "Only chunk and hash - do not write to disk.").short('n'))
        .arg(bool_opt("wrap-with-directory", "Wrap files with a directory object.").short('w'))
        .arg(bool_opt("pin", "Pin locally to protect added files from garbage collection. [default: true]"))
        .arg(str_opt("pin-name", "Name to use for the pin. Requires explicit value (e.g., --pin-name=myname)."))
        .arg(str_opt(
            "cid-version",
            "CID version (0 or 1). CIDv1 automatically enables raw-leaves and is required for non-sha2-256 hashes. Default: Import.CidVersion",
        ))
        .arg(str_opt("hash", "Hash function to use. Implies CIDv1 if not sha2-256. Default: Import.HashFunction"))
        .arg(bool_opt(
            "raw-leaves",
            "Use raw blocks for leaf nodes. Note: CIDv1 automatically enables raw-leaves. Default: false for CIDv0, true for CIDv1",
        ))
        .arg(
            str_opt(
                "chunker",
                "Chunking algorithm, size-[bytes], rabin-[min]-[avg]-[max] or buzhash. Default: Import.UnixFSChunker",
            )
            .short('s'),
        )
        .arg(bool_opt("trickle", "Use trickle-dag format for dag generation.").short('t'))
        .arg(str_opt("max-file-links", "Limit the maximum number of links in UnixFS file nodes to this value. Default: Import.UnixFSFileMaxLinks"))
        .arg(str_opt(
            "max-directory-links",
            "Limit the maximum number of links in UnixFS basic directory nodes to this value. Default: Import.UnixFSDirectoryMaxLinks",
        ))
        .arg(str_opt(
            "max-hamt-fanout",
            "Limit the maximum number of links of a UnixFS HAMT directory node to this (power of 2, between 8 and 1024). Default: Import.UnixFSHAMTDirectoryMaxFanout",
        ))
        .arg(bool_opt("inline", "Inline small blocks into CIDs."))
        .arg(str_opt("inline-limit", "Maximum block size to inline. Maximum: 128 bytes. [default: 32]"))
        .arg(bool_opt("preserve-mode", "Apply existing POSIX permissions to created UnixFS entries. Disables raw-leaves."))
        .arg(bool_opt("preserve-mtime", "Apply existing POSIX modification time to created UnixFS entries. Disables raw-leaves."))
        .arg(str_opt("mode", "Custom POSIX file mode to store in created UnixFS entries. Disables raw-leaves."))
        .arg(str_opt("mtime", "Custom POSIX modification time to store in created UnixFS entries (seconds before or after the Unix Epoch). Disables raw-leaves.").allow_hyphen_values(true))
        .arg(str_opt("mtime-nsecs", "Custom POSIX modification time (optional time fraction in nanoseconds)"))
        .arg(bool_opt("nocopy", "Add the file using filestore (not supported by rubo)."))
        .arg(str_opt("to-files", "Add reference to Files API (MFS) at the provided path."))
        .args(fast_provide_opts(
            "Immediately provide root CID to DHT in addition to regular queue, for faster discovery.",
            "Walk and provide the full DAG according to Provide.Strategy immediately after add.",
        ))
}

/// Resolves the import settings as Kubo does: flags, then `Import.*` config, then defaults.
fn add_options(req: &Request, node: &Node) -> Result<(AddOptions, bool), CmdError> {
    let cfg = node.repo().config().typed()?.import;
    let o = &req.opts;
    if o.flag("nocopy")? {
        return Err(CmdError::client("--nocopy: rubo has no filestore"));
    }
    let inline = o.flag("inline")?;
    let inline_limit = o.int("inline-limit")?.unwrap_or(32);
    if inline && inline_limit > 128 {
        return Err(CmdError::client(format!("inline-limit {inline_limit} exceeds maximum allowed size of 128 bytes")));
    }
    let trickle = match o.bool("trickle")? {
        Some(t) => t,
        None => cfg.dag_layout.as_deref() == Some("trickle"),
    };
    let chunker_str =
        o.str("chunker").map(str::to_string).or(cfg.chunker.clone()).unwrap_or_else(|| "size-262144".into());
    let chunker = ChunkerSpec::parse(&chunker_str).map_err(|e| CmdError::client(e.to_string()))?;
    let hash_name = o
        .str("hash")
        .map(str::to_string)
        .or(cfg.hash_function.clone())
        .unwrap_or_else(|| "sha2-256".into())
        .to_lowercase();
    let hash_code = hash::code_of(&hash_name)
        .map_err(|_| CmdError::client(format!("unrecognized hash function: {hash_name:?}")))?;
    if !hash::is_allowed(hash_code) {
        return Err(CmdError::client("potentially insecure hash functions not allowed"));
    }
    let mut cid_version = match o.int("cid-version")? {
        Some(v) => Some(v),
        None => cfg.cid_version,
    };
    let mut raw_set = o.bool("raw-leaves")?.or(cfg.raw_leaves);
    let max_links = o.int("max-file-links")?.or(cfg.file_max_links).unwrap_or(174);
    let max_dir_links = o.int("max-directory-links")?.or(cfg.directory_max_links).unwrap_or(0);
    let fanout = o.int("max-hamt-fanout")?.or(cfg.hamt_max_fanout).unwrap_or(256);
    if !(8..=1024).contains(&fanout) || fanout.count_ones() != 1 {
        return Err(CmdError::client(format!("HAMT fanout must be a power of 2 between 8 and 1024, got {fanout}")));
    }
    // A file node of one link never grows the tree: balanced and trickle
    // layouts would add levels forever (and fill the disk). Checked before
    // any block is written.
    if max_links < 2 {
        return Err(CmdError::client(format!("max-file-links must be at least 2, got {max_links}")));
    }
    if max_dir_links < 0 {
        return Err(CmdError::client(format!("max-directory-links must not be negative, got {max_dir_links}")));
    }
    let estimation = match cfg.hamt_size_estimation.as_deref() {
        None | Some("links") => SizeEstimation::Links,
        Some("block") => SizeEstimation::Block,
        Some(other) => {
            return Err(CmdError::client(format!("unknown Import.UnixFSHAMTDirectorySizeEstimation {other:?}")));
        }
    };
    let threshold = match &cfg.hamt_size_threshold {
        None | Some(Value::Null) => 256 * 1024,
        Some(Value::Number(n)) => n.as_u64().unwrap_or(256 * 1024),
        Some(Value::String(s)) => parse_bytes(s).map_err(CmdError::client)?,
        Some(_) => 256 * 1024,
    };
    let preserve_mode = o.flag("preserve-mode")?;
    let preserve_mtime = o.flag("preserve-mtime")?;
    let mode = o.int("mode")?.filter(|m| *m != 0);
    let mtime = o.int("mtime")?.filter(|m| *m != 0);
    let mtime_nsecs = o.int("mtime-nsecs")?.filter(|n| *n != 0);
    if mtime.is_none() && mtime_nsecs.is_some() {
        return Err(CmdError::client("option \"mtime-nsecs\" requires \"mtime\" to be provided as well"));
    }
    if preserve_mode || preserve_mtime || mode.is_some() || mtime.is_some() {
        if raw_set == Some(true) {
            return Err(CmdError::client(
                "raw-leaves can't be used with UnixFS metadata like mode or modification time",
            ));
        }
        raw_set = Some(false);
    }
    let only_hash = o.flag("only-hash")?;
    let pin = o.bool("pin")?.unwrap_or(true) && !only_hash;
    if !pin && o.contains("pin-name") && !only_hash {
        return Err(CmdError::client("pin-name option requires pin to be set"));
    }
    if hash_code != hash::SHA2_256 {
        match cid_version {
            Some(0) => return Err(CmdError::client("CIDv0 only supports sha2-256")),
            Some(1) | None => cid_version = Some(1),
            Some(v) => return Err(CmdError::client(format!("unknown CID version: {v}"))),
        }
    }
    let version = match cid_version.unwrap_or(0) {
        0 => Version::V0,
        1 => Version::V1,
        v => return Err(CmdError::client(format!("unknown CID version: {v}"))),
    };
    let raw_leaves = raw_set.unwrap_or(version == Version::V1);
    let prefix =
        CidPrefix { version, hash: hash_code, hash_len: None, inline_limit: inline.then_some(inline_limit as usize) };
    let import = ImportOptions {
        file: FileOptions {
            prefix,
            raw_leaves,
            max_links: max_links as usize,
            layout: if trickle { Layout::Trickle } else { Layout::Balanced },
            mode: None,
            mtime: None,
        },
        chunker,
        dir: DirOptions {
            prefix,
            max_links: max_dir_links.max(0) as usize,
            hamt_fanout: fanout as u64,
            hamt_threshold: threshold,
            estimation,
            mode: None,
            mtime: None,
        },
        include_empty_dirs: o.bool("empty-dirs")?.unwrap_or(true),
    };
    let pin_name = o.str("pin-name").unwrap_or_default().to_string();
    if pin_name.len() > 255 {
        return Err(CmdError::client(format!("pin name is {} bytes (max 255 bytes)", pin_name.len())));
    }
    let opts = AddOptions {
        import,
        wrap: o.flag("wrap-with-directory")?,
        only_hash,
        threads: 0,
        pin: pin.then_some(pin_name),
    };
    Ok((opts, pin))
}

async fn add(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let (opts, pin) = add_options(&req, &node)?;
    // `--only-hash` stores nothing: nothing to announce.
    let fast = if opts.only_hash { None } else { Some(fast_provide(&req, &node)?) };
    let to_mfs = req.opts.contains("to-files");
    let o = &req.opts;
    let mode = o.int("mode")?.filter(|m| *m != 0).map(|m| m as u32);
    let mtime = match o.int("mtime")?.filter(|m| *m != 0) {
        Some(s) => Some(UnixTime { seconds: s, nanos: o.int("mtime-nsecs")?.filter(|n| *n != 0).map(|n| n as u32) }),
        None => None,
    };
    let preserve_mode = o.flag("preserve-mode")?;
    let preserve_mtime = o.flag("preserve-mtime")?;
    // Progress lines only when asked for, as Kubo: API clients that list
    // every line (ipfshttpclient) would take them for added files.
    let progress = o.flag("progress")?;
    let tree = req.take_inputs("path")?.into_add_entries();
    // Explicit --mode/--mtime win over preserved ones; preserved ones only when asked.
    let tree: rubo_node::AddEntries = Box::new(tree.map(move |e| {
        e.map(|mut e| {
            e.mode = mode.or(if preserve_mode { e.mode } else { None });
            e.mtime = mtime.or(if preserve_mtime { e.mtime } else { None });
            e
        })
    }));
    let (tree, mut to_files) = crate::cmd::files::ToFiles::new(&node, &req, tree)?;
    let global = req.global.clone();
    let mut events = node.unixfs().add(tree, opts);
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        // The last item added is the root (Kubo's `lastRootCid`).
        let mut root = None;
        while let Some(ev) = events.recv().await {
            if let Ok(Event::Added { cid, .. }) = &ev {
                root = Some(*cid);
            }
            if let (Some(tf), Ok(Event::Added { path, cid, .. })) = (to_files.as_mut(), &ev)
                && let Err(e) = tf.added(path, cid)
            {
                let _ = tx.send(Err(e)).await;
                return;
            }
            let out = match ev {
                Ok(Event::Progress { .. }) if !progress => continue,
                Ok(Event::Progress { path, bytes }) => Ok(AddEventOut {
                    name: path.to_str_lossy().into_owned(),
                    bytes: bytes as i64,
                    ..Default::default()
                }),
                Ok(Event::Added { path, cid, size }) => Ok(AddEventOut {
                    name: path.to_str_lossy().into_owned(),
                    hash: global.cid(&cid),
                    size: size.to_string(),
                    ..Default::default()
                }),
                Err(e) => Err(CmdError::from(e)),
            };
            let v = out.and_then(|o| serde_json::to_value(o).map_err(|e| CmdError::new(e.to_string())));
            let stop = v.is_err();
            if tx.send(v).await.is_err() || stop {
                return;
            }
        }
        // The add is complete (an error returned above): only now link into MFS.
        if let Some(tf) = to_files
            && let Err(e) = tf.finish().await
        {
            let _ = tx.send(Err(e)).await;
            return;
        }
        if let (Some(fast), Some(root)) = (fast, root)
            && let Err(e) = node.fast_provide(&[root], fast, pin, to_mfs).await
        {
            let _ = tx.send(Err(CmdError::from(e))).await;
        }
    });
    Ok(Output::Stream(rx))
}

/// Prints `added <cid> <name>` lines, and a progress bar on a terminal.
struct AddText {
    quiet: bool,
    quieter: bool,
    silent: bool,
    tty: bool,
    bar: Option<ProgressBar>,
    last_hash: String,
    last_file: String,
    last_bytes: u64,
    prev_files: u64,
    total: Option<std::sync::mpsc::Receiver<u64>>,
}

impl AddText {
    fn new(req: &Request) -> Self {
        let quiet = req.opts.flag("quiet").unwrap_or(false);
        let quieter = req.opts.flag("quieter").unwrap_or(false);
        let silent = req.opts.flag("silent").unwrap_or(false);
        // The effective option (the CLI turns it on for a terminal when not
        // quiet); an explicit -p draws even when stderr is not a terminal, as
        // Kubo's does.
        let progress = req.opts.bool("progress").unwrap_or(None).unwrap_or(false) && !silent;
        let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let (bar, total) = if progress {
            let target = if tty {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::term_like_with_hz(Box::new(PlainStderr), 15)
            };
            let bar = ProgressBar::with_draw_target(None, target);
            bar.set_style(
                ProgressStyle::with_template("{bytes} / {total_bytes} [{wide_bar}] {binary_bytes_per_sec} {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            // The total comes from walking the inputs, which may take a while.
            let (tx, rx) = std::sync::mpsc::channel();
            let paths = req.args.clone();
            std::thread::spawn(move || {
                let total: u64 = paths.iter().map(|p| disk_size(std::path::Path::new(p))).sum();
                let _ = tx.send(total);
            });
            (Some(bar), Some(rx))
        } else {
            (None, None)
        };
        Self {
            quiet: quiet || quieter,
            quieter,
            silent,
            tty,
            bar,
            last_hash: String::new(),
            last_file: String::new(),
            last_bytes: 0,
            prev_files: 0,
            total,
        }
    }
}

/// stderr as a progress bar's terminal when it is not one (a pipe, a log):
/// frames are redrawn in place with a carriage return and an erase.
#[derive(Debug)]
struct PlainStderr;

impl indicatif::TermLike for PlainStderr {
    fn width(&self) -> u16 {
        80
    }

    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        std::io::Write::write_all(&mut std::io::stderr(), s.as_bytes())
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.write_str("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::Write::flush(&mut std::io::stderr())
    }
}

/// Bytes of regular files under `p` (for the progress bar's total).
fn disk_size(p: &std::path::Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(p) else { return 0 };
    if meta.is_file() {
        return meta.len();
    }
    if !meta.is_dir() {
        return 0;
    }
    let mut total = 0;
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}

impl TextEncoder for AddText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let ev: AddEventOut = typed(v)?;
        if let (Some(bar), Some(rx)) = (&self.bar, &self.total)
            && let Ok(t) = rx.try_recv()
        {
            bar.set_length(t);
        }
        if !ev.hash.is_empty() {
            self.last_hash = ev.hash.clone();
            if self.quieter || self.silent {
                return Ok(());
            }
            let line = if self.quiet {
                format!("{}\n", ev.hash)
            } else {
                format!("added {} {}\n", ev.hash, esc_non_print(&ev.name))
            };
            return match &self.bar {
                Some(bar) => {
                    let mut res = Ok(());
                    bar.suspend(|| res = p.out(&line));
                    res
                }
                None => p.out(&line),
            };
        }
        if let Some(bar) = &self.bar {
            let bytes = ev.bytes.max(0) as u64;
            if self.last_file.is_empty() {
                self.last_file = ev.name.clone();
            }
            if ev.name != self.last_file || bytes < self.last_bytes {
                self.prev_files += self.last_bytes;
                self.last_file = ev.name;
            }
            self.last_bytes = bytes;
            bar.set_position(self.prev_files + self.last_bytes);
        }
        Ok(())
    }

    fn finish(&mut self, p: &mut Printer<'_>) -> Result<(), CmdError> {
        if let Some(bar) = self.bar.take() {
            if bar.length().is_none() {
                bar.set_length(bar.position());
            }
            if self.tty {
                bar.finish_and_clear();
            } else {
                // A log keeps the last frame, on its own line.
                bar.finish();
                p.err("\n")?;
            }
        }
        if self.quieter && !self.silent && !self.last_hash.is_empty() {
            p.out(&format!("{}\n", self.last_hash))?;
        }
        Ok(())
    }
}

async fn cat(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    if req.args.is_empty() {
        return Err(CmdError::client("argument \"ipfs-path\" is required"));
    }
    let mut offset = match req.opts.int("offset")? {
        Some(o) if o < 0 => return Err(CmdError::client(format!("cannot specify negative offset: {o}"))),
        Some(o) => o as u64,
        None => 0,
    };
    let mut left = match req.opts.int("length")? {
        Some(l) if l < 0 => return Err(CmdError::client(format!("cannot specify negative length: {l}"))),
        Some(l) => Some(l as u64),
        None => None,
    };
    let mut paths = Vec::new();
    for a in &req.args {
        paths.push(IpfsPath::parse(a)?);
    }
    let (tx, rx) = mpsc::channel(8);
    // Check the first path before streaming, so that errors come back as errors.
    let first = node.unixfs().resolve(&paths[0]).await?;
    node.unixfs().stat(&first).await?;
    tokio::spawn(async move {
        for p in paths {
            if left == Some(0) {
                break;
            }
            let res = async {
                let cid = node.unixfs().resolve(&p).await?;
                let size = match node.unixfs().stat(&cid).await?.kind {
                    rubo_node::rubo_unixfs::export::NodeKind::File { size } => size,
                    _ => return Err(rubo_node::NodeError::InvalidInput("this dag node is a directory".into())),
                };
                // Kubo: the offset spans the concatenation of all files.
                if offset >= size {
                    offset -= size;
                    return Ok(None);
                }
                let start = offset;
                offset = 0;
                let len = left.map(|l| l.min(size - start));
                if let (Some(l), Some(n)) = (left.as_mut(), len) {
                    *l -= n;
                }
                node.unixfs().cat(&p, start, len).await.map(Some)
            }
            .await;
            match res {
                Ok(None) => continue,
                Ok(Some(mut chunks)) => {
                    while let Some(c) = chunks.recv().await {
                        if tx.send(c.map_err(CmdError::from)).await.is_err() {
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
    });
    Ok(Output::Bytes { content_type: "text/plain", stream: rx })
}

/// Kubo's `LsLink`.
#[derive(Debug, Serialize, Deserialize)]
struct LsLink {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Hash")]
    hash: String,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(rename = "Type")]
    kind: i32,
    #[serde(rename = "Target")]
    target: String,
    /// Go's `os.FileMode` (type bits above the permissions), 0 when unset.
    #[serde(rename = "Mode", default)]
    mode: u32,
    /// Go's `time.Time` in JSON; the zero time when unset.
    #[serde(rename = "ModTime", default = "zero_time")]
    mtime: String,
}

fn zero_time() -> String {
    crate::gotime::ZERO_TIME.to_string()
}

// Go's os.FileMode type bits.
const GO_MODE_DIR: u32 = 1 << 31;
const GO_MODE_SYMLINK: u32 = 1 << 27;
const GO_MODE_SETUID: u32 = 1 << 23;
const GO_MODE_SETGID: u32 = 1 << 22;
const GO_MODE_STICKY: u32 = 1 << 20;

/// boxo's `FSNode.Mode()`: UnixFS permission bits as a Go `os.FileMode`,
/// with the directory or symlink bit; 0 when no permission bit is set.
fn go_file_mode(unix: u32, kind: LsKind) -> u32 {
    let perms = unix & 0xFFF;
    if perms == 0 {
        return 0;
    }
    let mut m = perms & 0o777;
    if perms & 0o4000 != 0 {
        m |= GO_MODE_SETUID;
    }
    if perms & 0o2000 != 0 {
        m |= GO_MODE_SETGID;
    }
    if perms & 0o1000 != 0 {
        m |= GO_MODE_STICKY;
    }
    match kind {
        LsKind::Directory => m | GO_MODE_DIR,
        LsKind::Symlink => m | GO_MODE_SYMLINK,
        _ => m,
    }
}

/// Kubo's `LsObject`.
#[derive(Debug, Serialize, Deserialize)]
struct LsObject {
    #[serde(rename = "Hash")]
    hash: String,
    #[serde(rename = "Links")]
    links: Vec<LsLink>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LsOutput {
    #[serde(rename = "Objects")]
    objects: Vec<LsObject>,
}

/// UnixFS type numbers, as Kubo's JSON carries them (an unresolved link:
/// coreiface's TUnknown, which Kubo's `ls` leaves as 0).
fn kind_num(k: LsKind) -> i32 {
    match k {
        LsKind::Unknown => 0,
        LsKind::File => 2,
        LsKind::Directory => 1,
        LsKind::Symlink => 4,
    }
}

async fn ls(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    if req.args.is_empty() {
        return Err(CmdError::client("argument \"ipfs-path\" is required"));
    }
    let resolve = req.opts.bool("resolve-type")?.unwrap_or(true) || req.opts.bool("size")?.unwrap_or(true);
    let stream = req.opts.flag("stream")?;
    let mut objects = Vec::new();
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    for a in &req.args {
        let path = IpfsPath::parse(a)?;
        let cid = node.unixfs().resolve(&path).await?;
        let mut entries = node.unixfs().ls(&cid, resolve).await?;
        if !stream {
            entries.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let links: Vec<LsLink> = entries
            .into_iter()
            .map(|e| LsLink {
                name: e.name.to_str_lossy().into_owned(),
                hash: req.global.cid(&e.cid),
                size: e.size,
                kind: kind_num(e.kind),
                target: e.target.to_str_lossy().into_owned(),
                mode: go_file_mode(e.mode.unwrap_or(0), e.kind),
                // boxo's ModTime: out-of-range nanoseconds read as no time.
                mtime: match e.mtime {
                    Some(t) if t.nanos != Some(0) => crate::gotime::rfc3339_local(t.seconds, t.nanos.unwrap_or(0)),
                    _ => zero_time(),
                },
            })
            .collect();
        if stream {
            for l in links {
                let v = serde_json::to_value(LsOutput { objects: vec![LsObject { hash: a.clone(), links: vec![l] }] })
                    .map_err(|e| CmdError::new(e.to_string()));
                if tx.send(v).await.is_err() {
                    break;
                }
            }
        } else {
            objects.push(LsObject { hash: a.clone(), links });
        }
    }
    if !stream {
        return Output::value(LsOutput { objects });
    }
    Ok(Output::Stream(rx))
}

/// Kubo's `tabularOutput`.
struct LsText {
    headers: bool,
    size: bool,
    long: bool,
    stream: bool,
    multiple: bool,
    last: String,
    /// What "recent" is measured from (Kubo: `time.Now()`).
    now: jiff::Timestamp,
}

impl LsText {
    fn new(req: &Request) -> Self {
        Self {
            headers: req.opts.flag("headers").unwrap_or(false),
            size: req.opts.bool("size").unwrap_or(None).unwrap_or(true),
            long: req.opts.flag("long").unwrap_or(false),
            stream: req.opts.flag("stream").unwrap_or(false),
            multiple: req.args.len() > 1,
            last: String::new(),
            now: jiff::Timestamp::now(),
        }
    }
}

/// Kubo's `formatMode`: a Go `os.FileMode` as `ls -l` shows it.
fn format_mode(mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(match mode {
        m if m & GO_MODE_DIR != 0 => 'd',
        m if m & GO_MODE_SYMLINK != 0 => 'l',
        _ => '-',
    });
    let bit = |b: u32, c: char| if mode & b != 0 { c } else { '-' };
    // Setuid, setgid and sticky take the execute position (upper case: not executable).
    let special = |flag: u32, exec: u32, set: char| match (mode & flag != 0, mode & exec != 0) {
        (true, true) => set,
        (true, false) => set.to_ascii_uppercase(),
        (false, true) => 'x',
        (false, false) => '-',
    };
    s.push(bit(0o400, 'r'));
    s.push(bit(0o200, 'w'));
    s.push(special(GO_MODE_SETUID, 0o100, 's'));
    s.push(bit(0o40, 'r'));
    s.push(bit(0o20, 'w'));
    s.push(special(GO_MODE_SETGID, 0o10, 's'));
    s.push(bit(0o4, 'r'));
    s.push(bit(0o2, 'w'));
    s.push(special(GO_MODE_STICKY, 0o1, 't'));
    s
}

impl TextEncoder for LsText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let out: LsOutput = typed(v)?;
        let mut tw = TabWriter::new(if self.stream { 10 } else { 1 }, 1);
        for obj in out.objects {
            if !self.stream && obj.hash != self.last || (self.stream && self.last.is_empty()) {
                if self.multiple {
                    if !self.last.is_empty() {
                        tw.line("");
                    }
                    tw.line(&format!("{}:", obj.hash));
                }
                if self.headers {
                    tw.line(match (self.long, self.size) {
                        (true, true) => "Mode\tHash\tSize\tModTime\tName",
                        (true, false) => "Mode\tHash\tModTime\tName",
                        (false, true) => "Hash\tSize\tName",
                        (false, false) => "Hash\tName",
                    });
                }
                self.last = obj.hash.clone();
            }
            for l in obj.links {
                let dir = l.kind == 1 || l.kind == 5 || l.kind == 3;
                let name = esc_non_print(&l.name);
                let line = if self.long {
                    let mode = if l.mode == 0 { "-".to_string() } else { format_mode(l.mode) };
                    let mt = crate::gotime::ls_mod_time(&l.mtime, self.now);
                    match (dir, self.size) {
                        (true, true) => format!("{mode}\t{}\t-\t{mt}\t{name}/", l.hash),
                        (true, false) => format!("{mode}\t{}\t{mt}\t{name}/", l.hash),
                        (false, true) => format!("{mode}\t{}\t{}\t{mt}\t{name}", l.hash, l.size),
                        (false, false) => format!("{mode}\t{}\t{mt}\t{name}", l.hash),
                    }
                } else {
                    match (dir, self.size) {
                        (true, true) => format!("{}\t-\t{name}/", l.hash),
                        (true, false) => format!("{}\t{name}/", l.hash),
                        (false, true) => format!("{}\t{}\t{name}", l.hash, l.size),
                        (false, false) => format!("{}\t{name}", l.hash),
                    }
                };
                tw.line(&line);
            }
        }
        p.out(&tw.finish())
    }
}
