//! `rubo`: the command line face of the node.
//!
//! Parses argv into a [`Request`], opens the repo as the command needs (or,
//! for commands that need none, doesn't), runs the command's handler and
//! prints its output with the command's text encoder. Exit status: 0 on
//! success, 1 on any error, as Kubo's.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Arg, ArgAction, Command};
use rubo_commands::input::{ByteStream, InputEntry, InputKind, InputSender, Inputs, pump_blocking};
use rubo_commands::output::Printer;
use rubo_commands::registry::{self, ArgKind, Ctx, RepoUse};
use rubo_commands::{CmdError, Encoding, Output, Request};
use rubo_node::{LockMode, Node};
use rubo_types::BString;

mod api;
mod daemon;
mod walk;

const HELP_TEMPLATE: &str = "USAGE\n  {usage}\n\n{about-with-newline}\n{all-args}{after-help}";

fn root() -> Command {
    let root = Command::new("rubo")
        .about("rubo - an IPFS node, compatible with Kubo")
        .long_about(
            "rubo - an IPFS node, compatible with Kubo's commands, repo layout and protocols.\n\n\
             BASIC COMMANDS\n  init          Initialize local rubo configuration\n  \
             add <path>    Add a file to IPFS\n  cat <ref>     Show IPFS object data\n  \
             get <ref>     Download IPFS objects\n  ls <ref>      List links from an object\n  \
             refs <ref>    List hashes of links from an object\n\n\
             DATA STRUCTURE COMMANDS\n  dag           Interact with IPLD DAG nodes\n  \
             files         Interact with files as if they were a unix filesystem\n  \
             block         Interact with raw blocks in the datastore\n\n\
             ADVANCED COMMANDS\n  pin           Pin objects to local storage\n  \
             repo          Manipulate the rubo repository\n\n\
             TOOL COMMANDS\n  config        Manage configuration\n  version       Show rubo version information\n  \
             id            Show info about rubo peers\n  cid           Convert and discover properties of CIDs\n  \
             multibase     Encode and decode data with Multibase format\n\n\
             Use 'rubo <command> --help' to learn more about each command.\n\n\
             rubo uses a repository in the local file system. By default, the repo is\n\
             located at ~/.rubo. To change the repo location, set the $RUBO_PATH\n\
             environment variable:\n\n    export RUBO_PATH=/path/to/rubo/repo\n\n\
             EXIT STATUS\n\nThe CLI will exit with one of the following values:\n\n\
             0     Successful execution.\n1     Failed executions.",
        )
        .disable_version_flag(true)
        .subcommand_required(false)
        .arg(
            Arg::new("repo-dir")
                .long("repo-dir")
                .global(true)
                .help_heading("Global options")
                .help("Path to the repository directory to use.")
                .action(ArgAction::Set),
        )
        .arg(
            Arg::new("config-file")
                .long("config-file")
                .global(true)
                .help_heading("Global options")
                .help("Path to the configuration file to use.")
                .action(ArgAction::Set),
        )
        .arg(
            Arg::new("api")
                .long("api")
                .global(true)
                .help_heading("Global options")
                .help("Use a specific API instance (defaults to the daemon in $RUBO_PATH/api)")
                .action(ArgAction::Set),
        )
        .arg(
            Arg::new("api-auth")
                .long("api-auth")
                .global(true)
                .help_heading("Global options")
                .help("Optional RPC API authorization secret (basic:user:pass or bearer:token)")
                .action(ArgAction::Set),
        )
        .arg(
            Arg::new("debug")
                .short('D')
                .long("debug")
                .global(true)
                .help_heading("Global options")
                .help("Operate in debug mode (RUST_LOG=debug).")
                .action(ArgAction::SetTrue),
        );
    let tree = registry::build_tree(root).subcommand(daemon::command());
    with_template(tree)
}

fn with_template(cmd: Command) -> Command {
    let subs: Vec<Command> = cmd.get_subcommands().cloned().collect();
    let mut cmd = cmd.help_template(HELP_TEMPLATE);
    for s in subs {
        let name = s.get_name().to_string();
        cmd = cmd.mut_subcommand(name, |_| with_template(s));
    }
    cmd
}

fn repo_path(m: &clap::ArgMatches) -> PathBuf {
    if let Some(p) = m.get_one::<String>("repo-dir") {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("RUBO_PATH").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".rubo")
}

/// Logs to stderr at `RUST_LOG` (or `-D`: debug), changeable at run time
/// through `rubo log level`.
fn init_logging(debug: bool) {
    use tracing_subscriber::prelude::*;
    let filter = if debug {
        tracing_subscriber::EnvFilter::new("debug")
    } else {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"))
    };
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    if tracing_subscriber::registry().with(filter).with(fmt).try_init().is_ok() {
        rubo_commands::logctl::register(move |directive| {
            let f = tracing_subscriber::EnvFilter::try_new(directive).map_err(|e| e.to_string())?;
            handle.reload(f).map_err(|e| e.to_string())
        });
    }
}

/// Set when a write to stdout or stderr found the pipe closed.
static BROKEN_PIPE: AtomicBool = AtomicBool::new(false);

/// What a shell reports for a program killed by SIGPIPE (128 + 13), as a Go
/// program writing to a closed stdout is: `rubo cat big | head -c1` ends
/// quietly, as Kubo's does.
const EXIT_BROKEN_PIPE: u8 = 141;

/// A writer that notes a closed pipe (Rust ignores SIGPIPE, so the write
/// fails instead of killing the process).
struct PipeWatch<W>(W);

impl<W: Write> Write for PipeWatch<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        watch(self.0.write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        watch(self.0.flush())
    }
}

fn watch<T>(r: std::io::Result<T>) -> std::io::Result<T> {
    if let Err(e) = &r
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        BROKEN_PIPE.store(true, Ordering::Relaxed);
    }
    r
}

/// Prints an error on stderr; nothing to do if stderr itself is gone.
fn report(msg: &str) {
    let mut e = PipeWatch(std::io::stderr());
    let _ = writeln!(e, "{msg}");
}

fn main() -> ExitCode {
    let mut cmd = root();
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Kubo: `ipfs --version` is `ipfs version`.
    if args.get(1).is_some_and(|a| a == "--version") {
        args[1] = "version".into();
    }
    let matches = match cmd.try_get_matches_from_mut(args) {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                ErrorKind::UnknownArgument => {
                    // Kubo's wording: `Error: unknown option "codec"`.
                    let arg = match e.get(clap::error::ContextKind::InvalidArg) {
                        Some(clap::error::ContextValue::String(s)) => s.clone(),
                        _ => String::new(),
                    };
                    let name = arg.trim_start_matches('-').split('=').next().unwrap_or_default();
                    if arg.starts_with('-') && !name.is_empty() {
                        report(&format!("Error: unknown option {name:?}"));
                    } else {
                        report(&format!("Error: unexpected argument {arg:?}"));
                    }
                    ExitCode::from(1)
                }
                ErrorKind::InvalidValue
                    if matches!(
                        e.get(clap::error::ContextKind::InvalidValue),
                        Some(clap::error::ContextValue::String(v)) if v.is_empty()
                    ) =>
                {
                    // Kubo's wording: `Error: missing argument for option "to-files"`.
                    let arg = match e.get(clap::error::ContextKind::InvalidArg) {
                        Some(clap::error::ContextValue::String(s)) => s.clone(),
                        _ => String::new(),
                    };
                    let name = arg.trim_start_matches('-').split([' ', '=']).next().unwrap_or_default();
                    report(&format!("Error: missing argument for option {name:?}"));
                    ExitCode::from(1)
                }
                _ => {
                    let text = e.render().to_string();
                    let text = text.strip_prefix("error: ").unwrap_or(&text);
                    report(format!("Error: {text}").trim_end());
                    ExitCode::from(1)
                }
            };
        }
    };
    init_logging(matches.get_flag("debug"));
    if let Some(("daemon", dm)) = matches.subcommand() {
        let offline = dm.get_one::<bool>("offline").copied().unwrap_or(false);
        return daemon::run(repo_path(&matches), dm, offline);
    }
    let (path, leaf_cmd, leaf_m) = registry::leaf(&cmd, &matches);
    if path.is_empty() {
        let _ = cmd.print_help();
        return ExitCode::SUCCESS;
    }
    let spec_path = path.join(" ");
    let Some((spec, def)) = registry::registry().find(&spec_path) else {
        // A group without a handler: show its help.
        let mut c = leaf_cmd.clone();
        let _ = c.print_help();
        return ExitCode::SUCCESS;
    };

    let mut req = Request::new(&path.iter().map(String::as_str).collect::<Vec<_>>());
    registry::fill_request(&spec_path, leaf_m, &mut req);
    // File arguments are read here and streamed to the command; the request
    // carries their contents, never local paths.
    let file_args: Vec<String> = if spec.args == ArgKind::Files {
        std::mem::take(&mut req.args)
    } else {
        let mut files = Vec::new();
        for a in def.positionals().filter(|a| a.is_file()) {
            if let Some(vs) = leaf_m.get_raw(a.id()) {
                let vs: Vec<String> = vs.map(|v| v.to_string_lossy().into_owned()).collect();
                req.args.retain(|x| !vs.contains(x));
                files.extend(vs);
            }
        }
        files
    };
    // "--progress defaults to true when stderr is a terminal" (and the
    // output is not quiet: Kubo's add), decided here once so that handlers
    // see the effective value.
    let quiet = ["quiet", "quieter", "silent"].iter().any(|f| req.opts.flag(f).unwrap_or(false));
    if !req.opts.contains("progress") && !quiet && def.option("progress").is_some() && std::io::stderr().is_terminal() {
        req.opts.insert("progress", "true");
    }
    req.global = match registry::global_from(&req.opts, Encoding::Text) {
        Ok(g) => g,
        Err(e) => {
            report(&format!("Error: {e}"));
            return ExitCode::from(1);
        }
    };
    let takes_files = spec.args == ArgKind::Files || def.positionals().any(|a| a.is_file());
    if let Err(e) = gather_inputs(spec.args, takes_files, file_args, &mut req) {
        report(&format!("Error: {e}"));
        return ExitCode::from(1);
    }
    let repo_path = repo_path(&matches);
    // `--config-file`: a bare name is in the repo, as Kubo's `config.Filename` takes it.
    let config_file = matches
        .get_one::<String>("config-file")
        .map(|f| rubo_node::rubo_repo::config_file_path(&repo_path, f.as_ref()));

    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            report(&format!("Error: cannot start the runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let tty = std::io::stderr().is_terminal();
    // A running daemon holds the repo: commands go to it over the API
    // (`--api` names one explicitly), except those that run locally.
    let explicit_api = matches.get_one::<String>("api").cloned();
    let api_auth = matches.get_one::<String>("api-auth").cloned();
    if explicit_api.is_some() && spec.local_only {
        report("Error: api flag specified but command cannot be run on the daemon");
        return ExitCode::from(1);
    }
    let remote = if spec.runs_locally(&req) {
        None
    } else {
        explicit_api.clone().or_else(|| rubo_http::client::api_file(&repo_path).ok().flatten())
    };
    let result = rt.block_on(async {
        if let Some(addr) = remote {
            let client = rubo_http::Client::new(&addr, api_auth).map_err(|e| CmdError::client(e.to_string()))?;
            match client.version_check().await {
                Ok(_) => {
                    let text = (spec.text)(&req);
                    let enc = req.global.enc;
                    let out = client.call(&spec_path, req).await?;
                    return print(out, enc, text, tty).await;
                }
                // A stale `api` file (the daemon died): Kubo runs the
                // command here, on the repo, unless `--api` was given (or
                // there is no repo to run it on).
                Err(rubo_http::client::ClientError::Unreachable { .. })
                    if explicit_api.is_none() && rubo_node::rubo_repo::is_initialized(&repo_path) => {}
                Err(rubo_http::client::ClientError::Unreachable { .. }) => {
                    // go-ipfs-cmds' words, whatever the dial error.
                    return Err(CmdError::new(
                        "cannot connect to the api. Is the daemon running? To run as a standalone CLI \
                         command remove the api file in `$RUBO_PATH/api`",
                    ));
                }
                Err(e) => return Err(CmdError::new(e.to_string())),
            }
        }
        let ctx = match spec.repo_use(&req) {
            RepoUse::None => Ctx::None { repo_path, config_file },
            use_ => {
                let mode = if use_ == RepoUse::Write { LockMode::Exclusive } else { LockMode::Shared };
                let config = config_file.clone();
                let purpose = format!("rubo {spec_path}");
                let node = tokio::task::spawn_blocking(move || {
                    Node::open_with_config(&repo_path, config.as_deref(), mode, &purpose)
                })
                .await??;
                Ctx::Node(node)
            }
        };
        let text = (spec.text)(&req);
        let enc = req.global.enc;
        let out = (spec.run)(ctx.clone(), req).await?;
        let r = print(out, enc, text, tty).await;
        // Close the repo before exiting: flushes what lets the next open skip work.
        drop(ctx);
        r
    });
    // Let blocking tasks finish their writes before the process exits.
    rt.shutdown_timeout(std::time::Duration::from_secs(30));
    if BROKEN_PIPE.load(Ordering::Relaxed) {
        // The reader is gone: nothing to say, and no one to say it to.
        return ExitCode::from(EXIT_BROKEN_PIPE);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = std::io::stdout().flush();
            report(&format!("Error: {e}"));
            ExitCode::from(1)
        }
    }
}

/// Reads string arguments from stdin, or starts streaming file arguments
/// (or, for `add`, the walk of the paths given) into `req.inputs`.
fn gather_inputs(kind: ArgKind, takes_files: bool, files: Vec<String>, req: &mut Request) -> Result<(), CmdError> {
    match kind {
        ArgKind::StdinStrings => {
            if req.args.is_empty() && !std::io::stdin().is_terminal() {
                for line in std::io::stdin().lock().lines() {
                    let line = line?;
                    let line = line.trim();
                    if !line.is_empty() {
                        req.args.push(line.to_string());
                    }
                }
            }
        }
        ArgKind::Tree => {
            if req.opts.flag("dereference-args")? {
                // go-ipfs-cmds: each argument is replaced by the path its
                // symlinks resolve to (named after the target).
                for a in req.args.iter_mut().filter(|a| *a != "-") {
                    let real = std::fs::canonicalize(&a).map_err(|e| CmdError::client(format!("{a}: {e}")))?;
                    *a = real.to_string_lossy().into_owned();
                }
            }
            let o = &req.opts;
            let opts = walk::WalkOptions {
                recursive: o.flag("recursive")?,
                hidden: o.flag("hidden")?,
                dereference: o.flag("dereference-symlinks")? || o.flag("dereference-args")?,
                ignore: o.all("ignore").to_vec(),
                ignore_rules_path: o.str("ignore-rules-path").map(PathBuf::from),
                stdin_name: o.str("stdin-name").map(str::to_string),
            };
            let stdin_name = opts.stdin_name.clone().unwrap_or_default();
            req.args = walk::order_args(std::mem::take(&mut req.args), &stdin_name)?;
            let walk = walk::Walk::new(req.args.clone(), opts);
            let (tx, inputs) = Inputs::channel();
            std::thread::spawn(move || {
                for entry in walk {
                    let entry = entry.map_err(CmdError::from).map(|e| {
                        let (kind, reader) = match e.kind {
                            rubo_node::rubo_unixfs::import::EntryKind::File(r) => {
                                let (btx, stream) = ByteStream::channel();
                                (InputKind::File(stream), Some((r, btx)))
                            }
                            rubo_node::rubo_unixfs::import::EntryKind::Dir => (InputKind::Dir, None),
                            rubo_node::rubo_unixfs::import::EntryKind::Symlink(t) => (InputKind::Symlink(t), None),
                        };
                        (InputEntry { path: e.path, kind, mode: e.mode, mtime: e.mtime }, reader)
                    });
                    match entry {
                        Ok((entry, reader)) => {
                            if tx.blocking_send(Ok(entry)).is_err() {
                                return;
                            }
                            if let Some((r, btx)) = reader
                                && !pump_blocking(r, &btx)
                            {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.blocking_send(Err(e));
                            return;
                        }
                    }
                }
            });
            req.inputs = Some(inputs);
        }
        ArgKind::Strings | ArgKind::Files => {
            if !takes_files {
                return Ok(());
            }
            let mut sources: Vec<Option<String>> = Vec::new();
            if files.is_empty() {
                // Commands whose file argument is optional (init) take none.
                if req.path != ["init"] {
                    sources.push(None);
                }
            }
            for p in files {
                if p == "-" {
                    sources.push(None);
                    continue;
                }
                // Checked now, so that a missing file fails before any work.
                let meta = std::fs::metadata(&p).map_err(|e| CmdError::client(format!("{p}: {e}")))?;
                if meta.is_dir() {
                    return Err(CmdError::client(format!("{p} is a directory")));
                }
                sources.push(Some(p));
            }
            if sources.is_empty() {
                return Ok(());
            }
            let (tx, inputs) = Inputs::channel();
            std::thread::spawn(move || stream_files(sources, &tx));
            req.inputs = Some(inputs);
        }
    }
    Ok(())
}

/// Sends each file (`None`: stdin) as an input, its bytes following.
fn stream_files(sources: Vec<Option<String>>, tx: &InputSender) {
    for src in sources {
        let (reader, name): (Box<dyn std::io::Read + Send>, String) = match src {
            None => (Box::new(std::io::stdin()), String::new()),
            Some(p) => match std::fs::File::open(&p) {
                Ok(f) => (Box::new(f), p),
                Err(e) => {
                    let _ = tx.blocking_send(Err(CmdError::client(format!("{p}: {e}"))));
                    return;
                }
            },
        };
        let (btx, stream) = ByteStream::channel();
        let entry = InputEntry { path: BString::from(name), kind: InputKind::File(stream), mode: None, mtime: None };
        if tx.blocking_send(Ok(entry)).is_err() || !pump_blocking(reader, &btx) {
            return;
        }
    }
}

async fn print(
    out: Output,
    enc: Encoding,
    mut text: Box<dyn rubo_commands::TextEncoder>,
    tty: bool,
) -> Result<(), CmdError> {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let emit = |v: serde_json::Value, text: &mut Box<dyn rubo_commands::TextEncoder>| -> Result<(), CmdError> {
        let mut o = PipeWatch(stdout.lock());
        let mut e = PipeWatch(stderr.lock());
        let mut p = Printer { out: &mut o, err: &mut e, tty };
        match enc {
            Encoding::Json => {
                let s = serde_json::to_string(&v).map_err(|e| CmdError::new(e.to_string()))?;
                p.out(&s)?;
                p.out("\n")
            }
            Encoding::Text => text.emit(v, &mut p),
        }
    };
    match out {
        Output::None => {}
        Output::Value(v) => emit(v, &mut text)?,
        Output::Stream(mut rx) => {
            while let Some(item) = rx.recv().await {
                emit(item?, &mut text)?;
            }
        }
        Output::Bytes { mut stream, .. } => {
            while let Some(chunk) = stream.recv().await {
                let chunk = chunk?;
                let mut o = PipeWatch(stdout.lock());
                let mut e = PipeWatch(stderr.lock());
                let mut p = Printer { out: &mut o, err: &mut e, tty };
                if enc == Encoding::Text && text.bytes(chunk.clone(), &mut p)? {
                    continue;
                }
                o.write_all(&chunk).map_err(|e| CmdError::new(format!("write: {e}")))?;
            }
        }
    }
    if enc == Encoding::Text {
        let mut o = PipeWatch(stdout.lock());
        let mut e = PipeWatch(stderr.lock());
        let mut p = Printer { out: &mut o, err: &mut e, tty };
        text.finish(&mut p)?;
    }
    PipeWatch(stdout.lock()).flush().map_err(|e| CmdError::new(format!("write: {e}")))?;
    Ok(())
}
