//! `rubo files`: MFS, the mutable file system (Kubo's `ipfs files`), and the
//! `--to-files` hook of `rubo add`.
//!
//! Options, defaults, JSON shapes, text output and error messages follow
//! Kubo's `core/commands/files.go`. Every change is persisted when the
//! command ends (see `rubo_node::FilesApi`), so `--flush=false` is accepted
//! and has nothing to defer, as for an offline Kubo command.

use std::collections::VecDeque;

use std::sync::{Arc, Mutex};

use crate::def::{Arg, ArgAction, Command};
use rubo_node::rubo_mfs::{CpOptions, LsEntry, NodeType, RmOptions, Stat, StatType, WriteOptions};
use rubo_node::rubo_unixfs::import::Entry;
use rubo_node::rubo_unixfs::pb::UnixTime;
use rubo_node::{AddEntries, Node, NodeError, cid_prefix};
use rubo_repo::config::units::humanize_bytes;
use rubo_types::{BString, ByteSlice, Cid, parse_cid};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::output::{FnText, Output, Printer, TextEncoder, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt, str_opt};
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![Group {
        path: "files",
        about: "Interact with unixfs files.",
        long_about: "Files is an API for manipulating IPFS objects as if they were a Unix\n\
             filesystem.\n\n\
             The files facility interacts with MFS (Mutable File System). MFS acts as a\n\
             single, dynamic filesystem mount. MFS has a root CID that is transparently\n\
             updated when a change happens (and can be checked with \"rubo files stat /\").\n\n\
             All files and folders within MFS are respected and will not be deleted\n\
             during garbage collections. However, a DAG may be referenced in MFS without\n\
             being fully available locally (MFS content is lazy loaded when accessed).\n\
             MFS is independent from the list of pinned items (\"rubo pin ls\").\n\n\
             Content added with \"rubo add\" (which by default also becomes pinned), is not\n\
             added to MFS unless --to-files is given. Any content can be lazily referenced\n\
             from MFS with the command \"rubo files cp /ipfs/<cid> /some/path/\".\n\n\
             Every rubo command persists the MFS root when it is done, so the '--flush'\n\
             flag (default true) is accepted and changes nothing.",
    }]
}

fn flush_opt() -> Arg {
    bool_opt("flush", "Flush target and ancestors after write. [default: true]").short('f')
}

fn cid_version_opt() -> Arg {
    str_opt("cid-version", "Cid version to use. (experimental)").alias("cid-ver")
}

fn hash_opt() -> Arg {
    str_opt("hash", "Hash function to use. Will set Cid version to 1 if used. (experimental)")
}

fn pos(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).help(help).num_args(1).action(ArgAction::Set)
}

fn spec(
    path: &'static str,
    repo: RepoUse,
    def: fn() -> Command,
    run: crate::registry::Handler,
    text: crate::registry::TextFn,
) -> Spec {
    Spec { path, repo, repo_for: None, args: ArgKind::Strings, local_only: false, def, run, text }
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        spec(
            "files ls",
            RepoUse::Read,
            || {
                Command::new("ls")
                    .about("List directories in the local mutable namespace.")
                    .long_about(
                        "List directories in the local mutable namespace (works on both IPFS and MFS paths).\n\n\
                         Examples:\n\n    $ rubo files ls /welcome/docs/\n    about\n    contact\n    help\n\n    \
                         $ rubo files ls /myfiles/a/b/c/d\n    foo\n    bar",
                    )
                    .arg(pos("path", "Path to show listing for. Defaults to '/'."))
                    .arg(bool_opt("long", "Use long listing format.").short('l'))
                    .arg(bool_opt("U", "Do not sort; list entries in directory order.").short('U'))
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(ls(ctx, req)),
            |req| Box::new(LsText::new(req)),
        ),
        spec(
            "files stat",
            RepoUse::Read,
            || {
                Command::new("stat")
                    .about("Display file status.")
                    .arg(pos("path", "Path to node to stat."))
                    .arg(str_opt(
                        "format",
                        "Print statistics in given format. Allowed tokens: <hash> <size> <cumulsize> <type> <childs> and optional <mode> <mode-octal> <mtime> <mtime-secs> <mtime-nsecs>.Conflicts with other format options. [default: <hash>\nSize: <size>\nCumulativeSize: <cumulsize>\nChildBlocks: <childs>\nType: <type>\nMode: <mode> (<mode-octal>)\nMtime: <mtime>]",
                    ))
                    .arg(bool_opt("hash", "Print only hash. Implies '--format=<hash>'. Conflicts with other format options."))
                    .arg(bool_opt("size", "Print only size. Implies '--format=<cumulsize>'. Conflicts with other format options."))
                    .arg(bool_opt("with-local", "Compute the amount of the dag that is local, and if possible the total size"))
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(stat(ctx, req)),
            |req| Box::new(StatText { format: stat_format(req).unwrap_or_default() }),
        ),
        spec(
            "files mkdir",
            RepoUse::Write,
            || {
                Command::new("mkdir")
                    .about("Make directories.")
                    .long_about(
                        "Create the directory if it does not already exist.\n\n\
                         The directory will have the CID version and hash function of Import.CidVersion\n\
                         and Import.HashFunction unless the --cid-version and --hash options are used.\n\n\
                         NOTE: All paths must be absolute.\n\n\
                         Examples:\n\n    $ rubo files mkdir /test/newdir\n    $ rubo files mkdir -p /test/does/not/exist/yet",
                    )
                    .arg(pos("path", "Path to dir to make."))
                    .arg(bool_opt("parents", "No error if existing, make parent directories as needed.").short('p'))
                    .arg(cid_version_opt())
                    .arg(hash_opt())
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(mkdir(ctx, req)),
            |_| Box::new(crate::output::JsonText),
        ),
        spec(
            "files write",
            RepoUse::Write,
            || {
                Command::new("write")
                    .about("Append to (modify) a file in MFS.")
                    .long_about(
                        "A low-level MFS command that allows you to append data at the end of a file, or\n\
                         specify a beginning offset within a file to write to. The entire length of the\n\
                         input will be written.\n\n\
                         If the '--create' option is specified, the file will be created if it does not\n\
                         exist. Nonexistent intermediate directories will not be created unless the\n\
                         '--parents' option is specified.\n\n\
                         Newly created files will have the CID version and hash function of\n\
                         Import.CidVersion and Import.HashFunction unless the '--cid-version' and\n\
                         '--hash' options are used.\n\n\
                         Newly created leaves will be in the legacy format (Protobuf) if the\n\
                         CID version is 0, or raw if the CID version is non-zero.  Use of the\n\
                         '--raw-leaves' option will override this behavior.\n\n\
                         The data comes from the file named by <data>, or from stdin.\n\n\
                         EXAMPLE:\n\n    echo \"hello world\" | rubo files write --create --parents /myfs/a/b/file\n    \
                         echo \"hello world\" | rubo files write --truncate /myfs/a/b/file\n\n\
                         The CID produced by 'files write' will be different from 'rubo add' because\n\
                         'files write' creates a trickle-dag optimized for append-only operations\n\
                         (as Kubo's does). To add a file without modifying an existing one, use\n\
                         'rubo add --to-files'.",
                    )
                    .arg(pos("path", "Path to write to."))
                    .arg(pos("data", "Data to write (a file; stdin when not given).").file())
                    .arg(str_opt("offset", "Byte offset to begin writing at.").short('o').allow_hyphen_values(true))
                    .arg(bool_opt("create", "Create the file if it does not exist.").short('e'))
                    .arg(bool_opt("parents", "Make parent directories as needed.").short('p'))
                    .arg(bool_opt("truncate", "Truncate the file to size zero before writing.").short('t'))
                    .arg(str_opt("count", "Maximum number of bytes to read.").short('n').allow_hyphen_values(true))
                    .arg(bool_opt("raw-leaves", "Use raw blocks for newly created leaf nodes. (experimental)"))
                    .arg(cid_version_opt())
                    .arg(hash_opt())
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(write(ctx, req)),
            |_| Box::new(crate::output::JsonText),
        ),
        spec(
            "files read",
            RepoUse::Read,
            || {
                Command::new("read")
                    .about("Read a file from MFS.")
                    .long_about(
                        "Read a specified number of bytes from a file at a given offset. By default,\n\
                         it will read the entire file similar to the Unix cat.\n\n\
                         Examples:\n\n    $ rubo files read /test/hello\n    hello",
                    )
                    .arg(pos("path", "Path to file to be read."))
                    .arg(str_opt("offset", "Byte offset to begin reading from.").short('o').allow_hyphen_values(true))
                    .arg(str_opt("count", "Maximum number of bytes to read.").short('n').allow_hyphen_values(true))
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(read(ctx, req)),
            |_| Box::new(crate::output::JsonText),
        ),
        spec(
            "files cp",
            RepoUse::Write,
            || {
                Command::new("cp")
                    .about("Add references to IPFS files and directories in MFS (or copy within MFS).")
                    .long_about(
                        "\"rubo files cp\" can be used to add references to any IPFS file or directory\n\
                         (usually in the form /ipfs/<CID>, but also any resolvable path) into MFS.\n\
                         This performs a lazy copy: the full DAG will not be fetched, only the root\n\
                         node being copied (without a daemon the node is offline, so that root block\n\
                         must be local).\n\n\
                         It can also be used to copy files within MFS, but in the case when an\n\
                         IPFS-path matches an existing MFS path, the IPFS path wins.\n\n\
                         In order to add content to MFS from disk, you can use \"rubo add\" to obtain the\n\
                         IPFS Content Identifier and then \"rubo files cp\" to copy it into MFS:\n\n\
                         $ rubo add --quieter --pin=false <your file>\n\
                         $ rubo files cp /ipfs/<CID> /your/desired/mfs/path",
                    )
                    .arg(pos("source", "Source IPFS or MFS path to copy."))
                    .arg(pos("dest", "Destination within MFS."))
                    .arg(bool_opt("force", "Force overwrite of existing files."))
                    .arg(bool_opt("parents", "Make parent directories as needed.").short('p'))
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(cp(ctx, req)),
            |_| Box::new(crate::output::JsonText),
        ),
        spec(
            "files mv",
            RepoUse::Write,
            || {
                Command::new("mv")
                    .about("Move files.")
                    .long_about(
                        "Move files around. Just like the traditional Unix mv.\n\n\
                         Example:\n\n    $ rubo files mv /myfs/a/b/c /myfs/foo/newc",
                    )
                    .arg(pos("source", "Source file to move."))
                    .arg(pos("dest", "Destination path for file to be moved to."))
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(mv(ctx, req)),
            |_| Box::new(crate::output::JsonText),
        ),
        spec(
            "files rm",
            RepoUse::Write,
            || {
                Command::new("rm")
                    .about("Remove a file from MFS.")
                    .long_about(
                        "Remove files or directories.\n\n    $ rubo files rm /foo\n    $ rubo files ls /bar\n    \
                         cat\n    dog\n    fish\n    $ rubo files rm -r /bar",
                    )
                    .arg(Arg::new("path").help("File to remove.").num_args(0..).action(ArgAction::Append))
                    .arg(bool_opt("recursive", "Recursively remove directories.").short('r'))
                    .arg(bool_opt("force", "Forcibly remove target at path; implies -r for directories"))
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(rm(ctx, req)),
            |_| Box::new(GoText),
        ),
        spec(
            "files flush",
            RepoUse::Write,
            || {
                Command::new("flush")
                    .about("Flush a given path's data to disk.")
                    .long_about(
                        "Flush a given path to the disk. This is only useful when other commands\n\
                         are run with the '--flush=false'.",
                    )
                    .arg(pos("path", "Path to flush. Default: '/'."))
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(flush(ctx, req)),
            |_| {
                // Kubo has no text encoder for this: go-ipfs-cmds prints the
                // struct with `%s`, as `&{<cid>}` and no newline.
                Box::new(FnText(|v, p: &mut Printer<'_>| {
                    let o: FlushOut = typed(v)?;
                    p.out(&format!("&{{{}}}", o.cid))
                }))
            },
        ),
        spec(
            "files chcid",
            RepoUse::Write,
            || {
                Command::new("chcid")
                    .about("Change the CID version or hash function of the root node of a given path.")
                    .long_about(
                        "Change the CID version or hash function of the root node of a given path.\n\n\
                         Note: the MFS root ('/') CID format is controlled by Import.CidVersion and\n\
                         Import.HashFunction in the config and cannot be changed with this command.\n\
                         Use 'rubo config' to modify these values instead. This command only works\n\
                         on subdirectories of the MFS root.",
                    )
                    .arg(pos("path", "Path to change (must not be '/')."))
                    .arg(cid_version_opt())
                    .arg(hash_opt())
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(chcid(ctx, req)),
            |_| Box::new(crate::output::JsonText),
        ),
        spec(
            "files chmod",
            RepoUse::Write,
            || {
                Command::new("chmod")
                    .about("Change optional POSIX mode permissions")
                    .long_about(
                        "The mode argument must be specified in Unix numeric notation.\n\n    \
                         $ rubo files chmod 0644 /foo\n    $ rubo files stat /foo\n    ...\n    \
                         Type: file\n    Mode: -rw-r--r-- (0644)\n    ...",
                    )
                    .arg(pos("mode", "Mode to apply to node (numeric notation)"))
                    .arg(pos("path", "Path to apply mode"))
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(chmod(ctx, req)),
            |_| Box::new(crate::output::JsonText),
        ),
        spec(
            "files touch",
            RepoUse::Write,
            || {
                Command::new("touch")
                    .about("Set or change optional POSIX modification times.")
                    .long_about(
                        "Examples:\n    # set modification time to now.\n    $ rubo files touch /foo\n    \
                         # set a custom modification time.\n    $ rubo files touch --mtime=1630937926 /foo",
                    )
                    .arg(pos("path", "Path of target to update."))
                    .arg(
                        str_opt(
                            "mtime",
                            "Modification time in seconds before or since the Unix Epoch to apply to created UnixFS entries.",
                        )
                        .allow_hyphen_values(true),
                    )
                    .arg(str_opt("mtime-nsecs", "Modification time fraction in nanoseconds"))
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(touch(ctx, req)),
            |_| Box::new(crate::output::JsonText),
        ),
        spec(
            "files chroot",
            RepoUse::Write,
            || {
                Command::new("chroot")
                    .about("Change the MFS root CID.")
                    .long_about(
                        "'rubo files chroot' changes the root CID used by MFS (Mutable File System).\n\
                         This is a recovery command for when MFS becomes corrupted.\n\n\
                         When run without a CID argument, resets MFS to an empty directory.\n\n\
                         WARNING: The old MFS root and its unpinned children will be removed during\n\
                         the next garbage collection. Pin the old root first if you want to preserve.\n\n\
                         Examples:\n\n  # Reset MFS to empty directory (recovery from corruption)\n  \
                         $ rubo files chroot --confirm\n\n  # Restore MFS to a known good directory CID\n  \
                         $ rubo files chroot --confirm QmYourBackupCID",
                    )
                    .arg(pos("cid", "New root CID (defaults to empty directory if not specified)."))
                    .arg(bool_opt("confirm", "Confirm this potentially destructive operation."))
                    .arg(flush_opt())
            },
            |ctx, req| Box::pin(chroot(ctx, req)),
            |_| {
                Box::new(FnText(|v, p: &mut Printer<'_>| {
                    let o: MessageOut = typed(v)?;
                    p.out(&o.message)
                }))
            },
        ),
    ]
}

/// go-ipfs-cmds' default text encoder (`fmt.Fprintf(w, "%s", v)`): strings
/// as they are, no newline.
struct GoText;

impl TextEncoder for GoText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        match v {
            Value::String(s) => p.out(&s),
            v => p.out(&v.to_string()),
        }
    }
}

/// An integer option as Kubo's `Int64Option`.
fn int_opt(req: &Request, name: &str) -> Result<Option<i64>, CmdError> {
    req.opts.int(name)
}

/// `--cid-version`/`--hash` (Kubo `getPrefix` without the config fallback).
fn flag_prefix(req: &Request) -> Result<Option<rubo_node::rubo_mfs::CidPrefix>, CmdError> {
    Ok(cid_prefix(int_opt(req, "cid-version")?, req.opts.str("hash"))?)
}

// ---- ls ----

/// boxo's `mfs.NodeListing`.
#[derive(Debug, Serialize, Deserialize)]
struct Listing {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Type")]
    kind: i32,
    #[serde(rename = "Size")]
    size: i64,
    #[serde(rename = "Hash")]
    hash: String,
}

/// Kubo's `filesLsOutput` (`Entries` is null for an empty directory).
#[derive(Debug, Serialize, Deserialize)]
struct LsOut {
    #[serde(rename = "Entries")]
    entries: Option<Vec<Listing>>,
}

async fn ls(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let path = req.args.first().cloned().unwrap_or_else(|| "/".into());
    let long = req.opts.flag("long")?;
    let (dir, entries) = node.files().ls(path, long).await?;
    let listing = |e: LsEntry| Listing {
        name: e.name.to_str_lossy().into_owned(),
        kind: match e.kind {
            NodeType::File => 0,
            NodeType::Directory => 1,
        },
        size: i64::try_from(e.size).unwrap_or(i64::MAX),
        // Kubo encodes a file's CID with --cid-base but prints directory
        // entries' CIDs as they are.
        hash: match e.hash {
            Some(c) if dir => c.to_string(),
            Some(c) => req.global.cid(&c),
            None => String::new(),
        },
    };
    let entries: Vec<Listing> = entries.into_iter().map(listing).collect();
    Output::value(LsOut { entries: (!entries.is_empty()).then_some(entries) })
}

struct LsText {
    long: bool,
    sort: bool,
}

impl LsText {
    fn new(req: &Request) -> Self {
        Self { long: req.opts.flag("long").unwrap_or(false), sort: !req.opts.flag("U").unwrap_or(false) }
    }
}

impl TextEncoder for LsText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let out: LsOut = typed(v)?;
        let mut entries = out.entries.unwrap_or_default();
        if self.sort {
            entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        }
        let mut s = String::new();
        for e in entries {
            if self.long {
                let slash = if e.kind == 1 { "/" } else { "" };
                s.push_str(&format!("{}{slash}\t{}\t{}\n", e.name, e.hash, e.size));
            } else {
                s.push_str(&e.name);
                s.push('\n');
            }
        }
        p.out(&s)
    }
}

// ---- stat ----

const DEFAULT_STAT_FORMAT: &str = "<hash>\nSize: <size>\nCumulativeSize: <cumulsize>\nChildBlocks: <childs>\nType: <type>\nMode: <mode> (<mode-octal>)\nMtime: <mtime>";

/// Kubo's `statGetFormatOptions`.
fn stat_format(req: &Request) -> Result<String, CmdError> {
    let hash = req.opts.flag("hash")?;
    let size = req.opts.flag("size")?;
    let format = req.opts.str("format").unwrap_or(DEFAULT_STAT_FORMAT);
    let custom = format != DEFAULT_STAT_FORMAT;
    if [hash, size, custom].iter().filter(|&&b| b).count() > 1 {
        return Err(CmdError::client(
            "invalid parameters: format was set by multiple options. Only one format option is allowed",
        ));
    }
    Ok(if hash {
        "<hash>".into()
    } else if size {
        "<cumulsize>".into()
    } else {
        format.to_string()
    })
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

/// Kubo's `statOutput`, fields in its JSON order (its `Mode` goes last, as
/// an octal string of the Go `os.FileMode`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct StatOut {
    #[serde(rename = "Hash")]
    hash: String,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(rename = "CumulativeSize")]
    cumulative_size: u64,
    #[serde(rename = "Blocks")]
    blocks: u64,
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "WithLocality", default, skip_serializing_if = "is_false")]
    with_locality: bool,
    #[serde(rename = "Local", default, skip_serializing_if = "is_false")]
    local: bool,
    #[serde(rename = "SizeLocal", default, skip_serializing_if = "is_zero_u64")]
    size_local: u64,
    #[serde(rename = "Mtime", default, skip_serializing_if = "is_zero_i64")]
    mtime: i64,
    #[serde(rename = "MtimeNsecs", default, skip_serializing_if = "is_zero_u32")]
    mtime_nsecs: u32,
    #[serde(rename = "Mode", default, skip_serializing_if = "String::is_empty")]
    mode: String,
}

fn stat_out(s: Stat, req: &Request) -> StatOut {
    let (local, size_local) = s.locality.map_or((false, 0), |l| (l.local, l.size_local));
    StatOut {
        hash: req.global.cid(&s.hash),
        size: s.size,
        cumulative_size: s.cumulative_size,
        blocks: s.blocks as u64,
        kind: match s.kind {
            StatType::File => "file",
            StatType::Directory => "directory",
        }
        .into(),
        with_locality: s.locality.is_some(),
        local,
        size_local,
        mtime: s.mtime.map_or(0, |t| t.seconds),
        mtime_nsecs: s.mtime.and_then(|t| t.nanos).unwrap_or(0),
        mode: if s.mode == 0 { String::new() } else { format!("{:04o}", s.mode) },
    }
}

async fn stat(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    stat_format(&req)?;
    let node = ctx.node()?.clone();
    let path = req.arg(0, "path")?.to_string();
    let with_local = req.opts.flag("with-local")?;
    let s = node.files().stat(path, with_local).await?;
    Output::value(stat_out(s, &req))
}

struct StatText {
    format: String,
}

impl TextEncoder for StatText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let o: StatOut = typed(v)?;
        let mode_bits = u32::from_str_radix(&o.mode, 8).unwrap_or(0);
        let unset = "not set";
        let (mode, mode_octal) = if mode_bits != 0 {
            (go_file_mode(mode_bits).to_lowercase(), format!("0{:o}", mode_bits & 0x1FF))
        } else {
            (unset.to_string(), unset.to_string())
        };
        let (mtime, secs, nsecs) = if o.mtime > 0 {
            (go_time_utc(o.mtime), o.mtime.to_string(), o.mtime_nsecs.to_string())
        } else {
            (unset.to_string(), unset.to_string(), unset.to_string())
        };
        let s = self
            .format
            .replace("<hash>", &o.hash)
            .replace("<size>", &o.size.to_string())
            .replace("<cumulsize>", &o.cumulative_size.to_string())
            .replace("<childs>", &o.blocks.to_string())
            .replace("<type>", &o.kind)
            .replace("<mode>", &mode)
            .replace("<mode-octal>", &mode_octal)
            .replace("<mtime>", &mtime)
            .replace("<mtime-secs>", &secs)
            .replace("<mtime-nsecs>", &nsecs);
        p.out(&s)?;
        p.out("\n")?;
        if o.with_locality {
            let pct = 100.0 * o.size_local as f64 / o.cumulative_size as f64;
            p.out(&format!(
                "Local: {} of {} ({})\n",
                humanize_bytes(o.size_local),
                humanize_bytes(o.cumulative_size),
                go_percent(pct)
            ))?;
        }
        Ok(())
    }
}

/// `%.2f%%` as Go prints it (NaN for an empty DAG).
fn go_percent(v: f64) -> String {
    if v.is_nan() { "NaN%".into() } else { format!("{v:.2}%") }
}

/// Go's `os.FileMode.String()`.
fn go_file_mode(m: u32) -> String {
    const TYPES: &str = "dalTLDpSugct?";
    let mut s = String::new();
    for (i, c) in TYPES.chars().enumerate() {
        if m & (1 << (31 - i)) != 0 {
            s.push(c);
        }
    }
    if s.is_empty() {
        s.push('-');
    }
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        s.push(if m & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    s
}

/// `time.Unix(secs, 0).UTC().Format("2 Jan 2006, 15:04:05 MST")`.
fn go_time_utc(secs: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let name = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!("{day} {name} {year}, {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

// ---- mkdir, write, read ----

async fn mkdir(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let path = req.arg(0, "path")?.to_string();
    rubo_node::rubo_mfs::check_path(&path).map_err(|e| CmdError::new(e.to_string()))?;
    let prefix = flag_prefix(&req)?;
    node.files().mkdir(path, req.opts.flag("parents")?, prefix).await?;
    Ok(Output::None)
}

async fn write(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let path = req.arg(0, "path")?.to_string();
    // Kubo's order of checks: the path, the CID options, then the offset.
    rubo_node::rubo_mfs::check_path(&path).map_err(|e| CmdError::new(e.to_string()))?;
    let prefix = flag_prefix(&req)?;
    let offset = int_opt(&req, "offset")?.unwrap_or(0);
    if offset < 0 {
        return Err(CmdError::new("cannot have negative write offset"));
    }
    let count = int_opt(&req, "count")?;
    let mut opts = WriteOptions {
        offset: offset as u64,
        create: req.opts.flag("create")?,
        parents: req.opts.flag("parents")?,
        truncate: req.opts.flag("truncate")?,
        count: count.map(|c| c.max(0) as u64),
        raw_leaves: req.opts.bool("raw-leaves")?,
        cid_prefix: prefix,
    };
    if count.is_some_and(|c| c < 0) {
        // Kubo checks the count once the file is open: a file it had to
        // create (or truncate) stays so.
        opts.offset = 0;
        opts.count = Some(0);
        node.files().write(path, Box::new(std::io::empty()), opts).await?;
        return Err(CmdError::new("cannot have negative byte count"));
    }
    let mut inputs = req.take_inputs("data")?;
    let data = inputs.next_file().await.ok_or_else(|| CmdError::client("argument \"data\" is required"))??;
    node.files().write(path, Box::new(data.into_blocking_reader()), opts).await?;
    Ok(Output::None)
}

async fn read(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let path = req.arg(0, "path")?.to_string();
    let offset = int_opt(&req, "offset")?;
    let count = int_opt(&req, "count")?;
    if offset.is_some_and(|o| o < 0) || count.is_some_and(|c| c < 0) {
        // Kubo looks the file up before it checks these.
        let _ = node.files().read(path, 0, Some(0)).await?;
        if offset.is_some_and(|o| o < 0) {
            return Err(CmdError::new("cannot specify negative offset"));
        }
        return Err(CmdError::new("cannot specify negative 'count'"));
    }
    let offset = offset.unwrap_or(0) as u64;
    let mut chunks = node.files().read(path, offset, count.map(|c| c as u64)).await?;
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        while let Some(c) = chunks.recv().await {
            if tx.send(c.map_err(CmdError::from)).await.is_err() {
                return;
            }
        }
    });
    // Kubo: raw outputs are text/plain.
    Ok(Output::Bytes { content_type: "text/plain", stream: rx })
}

// ---- cp, mv, rm ----

async fn cp(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let src = req.arg(0, "source")?.to_string();
    let dst = req.arg(1, "dest")?.to_string();
    let opts = CpOptions { parents: req.opts.flag("parents")?, force: req.opts.flag("force")?, cid_prefix: None };
    node.files().cp(src, dst, opts).await?;
    Ok(Output::None)
}

async fn mv(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let src = req.arg(0, "source")?.to_string();
    let dst = req.arg(1, "dest")?.to_string();
    node.files().mv(src, dst).await?;
    Ok(Output::None)
}

async fn rm(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    if req.opts.bool("flush")? == Some(false) {
        return Err(CmdError::new(
            "files rm always flushes for safety. The --flush flag cannot be set to false for this command",
        ));
    }
    let node = ctx.node()?.clone();
    if req.args.is_empty() {
        return Err(CmdError::client("argument \"path\" is required"));
    }
    let opts = RmOptions { recursive: req.opts.flag("recursive")?, force: req.opts.flag("force")? };
    let failures = node.files().rm(req.args.clone(), opts).await?;
    if failures.is_empty() {
        return Ok(Output::None);
    }
    // Kubo emits each failure, then fails the command.
    let (tx, rx) = mpsc::channel(failures.len() + 1);
    for f in failures {
        let _ = tx.try_send(Ok(Value::String(f)));
    }
    let _ = tx.try_send(Err(CmdError::new("can't remove some files")));
    Ok(Output::Stream(rx))
}

// ---- flush, chcid, chmod, touch, chroot ----

/// Kubo's `flushRes`.
#[derive(Debug, Serialize, Deserialize)]
struct FlushOut {
    #[serde(rename = "Cid")]
    cid: String,
}

async fn flush(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let path = req.args.first().cloned().unwrap_or_else(|| "/".into());
    let cid = node.files().flush(path).await?;
    Output::value(FlushOut { cid: req.global.cid(&cid) })
}

async fn chcid(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let path = req.arg(0, "path")?.to_string();
    if path == "/" {
        return Err(CmdError::new(
            "cannot change CID format of the MFS root; use 'ipfs config Import.CidVersion' and 'ipfs config Import.HashFunction' instead",
        ));
    }
    let prefix = flag_prefix(&req)?;
    node.files().chcid(path, prefix).await?;
    Ok(Output::None)
}

async fn chmod(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let mode = req.arg(0, "mode")?.to_string();
    let path = req.arg(1, "path")?.to_string();
    rubo_node::rubo_mfs::check_path(&path).map_err(|e| CmdError::new(e.to_string()))?;
    node.files().chmod(mode, path).await?;
    Ok(Output::None)
}

async fn touch(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let path = req.arg(0, "path")?.to_string();
    let mtime = int_opt(&req, "mtime")?.unwrap_or(0);
    let nsecs = match req.opts.str("mtime-nsecs") {
        None => 0,
        Some(s) => s.parse::<u32>().map_err(|_| {
            CmdError::client(format!("invalid value {s:?} for unsigned integer option \"mtime-nsecs\""))
        })?,
    };
    // Kubo: without --mtime, now (--mtime-nsecs alone is ignored).
    let t = (mtime != 0).then_some(UnixTime { seconds: mtime, nanos: Some(nsecs) });
    node.files().touch(path, t).await?;
    Ok(Output::None)
}

/// Kubo's `MessageOutput`.
#[derive(Debug, Serialize, Deserialize)]
struct MessageOut {
    #[serde(rename = "Message")]
    message: String,
}

async fn chroot(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    if !req.opts.flag("confirm")? {
        return Err(CmdError::new("this is a potentially destructive operation; pass --confirm to proceed"));
    }
    let node = ctx.node()?.clone();
    let new = match req.args.first() {
        Some(a) => {
            let s = a.strip_prefix("/ipfs/").unwrap_or(a);
            Some(parse_cid(s).map_err(|e| CmdError::new(format!("invalid CID {a:?}: {e}")))?)
        }
        None => None,
    };
    let r = node.files().chroot(new).await?;
    let new = req.global.cid(&r.new);
    let message = match r.old {
        Some(old) => {
            let old = req.global.cid(&old);
            format!(
                "MFS root changed from {old} to {new}\nThe old root {old} will be garbage collected unless pinned.\n"
            )
        }
        None => format!("MFS root set to {new}\n"),
    };
    Output::value(MessageOut { message })
}

// ---- add --to-files ----

/// `add --to-files`: links the top-level items into MFS once the whole add
/// has succeeded (a failed add links nothing, as in Kubo).
pub(crate) struct ToFiles {
    node: Node,
    dst: String,
    /// Names of the top-level items, in order (empty: unnamed, from stdin).
    tops: Arc<Mutex<VecDeque<BString>>>,
    /// Items added, waiting for the end of the add.
    done: Vec<(BString, Cid)>,
}

impl ToFiles {
    /// Checks `--to-files` against the other options (Kubo's messages) and
    /// records the top-level names of `tree` as the importer reads them.
    pub(crate) fn new(node: &Node, req: &Request, tree: AddEntries) -> Result<(AddEntries, Option<ToFiles>), CmdError> {
        let Some(dst) = req.opts.str("to-files") else {
            return Ok((tree, None));
        };
        if req.opts.flag("only-hash")? {
            return Err(CmdError::client("only-hash and to-files options are not compatible"));
        }
        if req.opts.flag("wrap-with-directory")? {
            return Err(CmdError::client("wrap-with-directory and to-files options are not compatible"));
        }
        let tops: Arc<Mutex<VecDeque<BString>>> = Arc::default();
        let seen = tops.clone();
        let tree: AddEntries = Box::new(tree.inspect(move |e: &Result<Entry, NodeError>| {
            if let Ok(entry) = e {
                let p = entry.path.trim_with(|c| c == '/');
                if !p.contains(&b'/')
                    && let Ok(mut t) = seen.lock()
                {
                    t.push_back(BString::from(p));
                }
            }
        }));
        let tf = ToFiles { node: node.clone(), dst: dst.to_string(), tops, done: Vec::new() };
        Ok((tree, Some(tf)))
    }

    /// Called for each `added` event: remembers the item when it is a top-level one.
    pub(crate) fn added(&mut self, path: &[u8], cid: &Cid) -> Result<(), CmdError> {
        let Ok(mut tops) = self.tops.lock() else { return Err(CmdError::new("to-files: lock poisoned")) };
        let name = match tops.front() {
            // An unnamed item is reported under its CID.
            Some(n) if n.is_empty() && path == cid.to_string().as_bytes() => tops.pop_front(),
            Some(n) if !n.is_empty() && n == path => tops.pop_front(),
            _ => None,
        };
        if let Some(name) = name {
            self.done.push((name, *cid));
        }
        Ok(())
    }

    /// Links every added item, once the add is complete.
    pub(crate) async fn finish(self) -> Result<(), CmdError> {
        for (i, (name, cid)) in self.done.into_iter().enumerate() {
            // MFS paths are text: a name that is not UTF-8 is linked under its lossy form.
            let name = name.to_str_lossy().into_owned();
            self.node.files().add_to_files(self.dst.clone(), name, cid, i > 0).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_formats() {
        assert_eq!(go_file_mode(0o644), "-rw-r--r--");
        assert_eq!(go_file_mode((1 << 31) | 0o755), "drwxr-xr-x");
        assert_eq!(go_file_mode((1 << 27) | 0o777).to_lowercase(), "lrwxrwxrwx");
        assert_eq!(go_time_utc(1_630_937_926), "6 Sep 2021, 14:18:46 UTC");
        assert_eq!(go_time_utc(0), "1 Jan 1970, 00:00:00 UTC");
        assert_eq!(go_time_utc(951_782_400), "29 Feb 2000, 00:00:00 UTC");
        assert_eq!(humanize_bytes(0), "0 B");
        assert_eq!(humanize_bytes(9), "9 B");
        assert_eq!(humanize_bytes(82), "82 B");
        assert_eq!(humanize_bytes(1_000), "1.0 kB");
        assert_eq!(humanize_bytes(123_456), "124 kB");
        assert_eq!(humanize_bytes(1_550_000), "1.6 MB");
        assert_eq!(go_percent(100.0), "100.00%");
        assert_eq!(go_percent(f64::NAN), "NaN%");
    }

    #[test]
    fn stat_json_order_and_omissions() {
        let o = StatOut {
            hash: "Qm".into(),
            kind: "directory".into(),
            mode: format!("{:04o}", (1u32 << 31) | 0o755),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"Hash":"Qm","Size":0,"CumulativeSize":0,"Blocks":0,"Type":"directory","Mode":"20000000755"}"#
        );
    }
}
