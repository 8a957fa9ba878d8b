//! The command table: every command's path, clap definition, handler and text
//! encoder, and the assembly of the `rubo` command tree from it.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::OnceLock;

use clap::ArgMatches;
use clap::parser::ValueSource;
use rubo_node::Node;

use crate::CmdError;
use crate::def::{self, OptKind};
use crate::output::{Output, TextEncoder};
use crate::request::{Encoding, Global, Request, parse_bool};

pub use crate::def::{bool_opt, str_opt};

/// What a command needs of the repo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoUse {
    /// Runs without a repo (`version`, `cid`...).
    None,
    /// Reads only: other readers may run alongside.
    Read,
    /// Writes: needs the repo to itself.
    Write,
}

/// How positional arguments are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// Plain strings.
    Strings,
    /// Strings, read one per line from stdin (or, over HTTP, from the body's
    /// first part) when none are given (Kubo's `EnableStdin`).
    StdinStrings,
    /// Files whose contents are the input ([`Request::inputs`]); stdin when
    /// none are given.
    Files,
    /// Files and directories to import (`add`), streamed as [`Request::inputs`].
    Tree,
}

/// What a handler runs against.
#[derive(Clone)]
pub enum Ctx {
    /// No open repo (`version`, `cid`, `init`): where the repo (and its
    /// config file, `--config-file`) would be, for the commands that make or
    /// read them.
    None {
        repo_path: PathBuf,
        config_file: Option<PathBuf>,
    },
    Node(Node),
}

impl Ctx {
    pub fn node(&self) -> Result<&Node, CmdError> {
        match self {
            Ctx::Node(n) => Ok(n),
            Ctx::None { .. } => Err(CmdError::new("this command needs a repo")),
        }
    }

    /// The repo's path.
    pub fn repo_path(&self) -> &Path {
        match self {
            Ctx::Node(n) => n.repo().path(),
            Ctx::None { repo_path, .. } => repo_path,
        }
    }
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
pub type Handler = fn(Ctx, Request) -> BoxFuture<Result<Output, CmdError>>;
pub type TextFn = fn(&Request) -> Box<dyn TextEncoder>;

/// One runnable command.
pub struct Spec {
    /// Space-separated path (`block put`).
    pub path: &'static str,
    pub repo: RepoUse,
    /// When what the command needs depends on its arguments (`config K` reads,
    /// `config K V` writes).
    pub repo_for: Option<fn(&Request) -> RepoUse>,
    pub args: ArgKind,
    /// Runs only in the calling process, never through a daemon nor over the
    /// RPC API (`init`, `daemon`, `config edit`; Kubo's `NoRemote`).
    pub local_only: bool,
    /// The declaration of this command's arguments and options.
    pub def: fn() -> def::Command,
    pub run: Handler,
    pub text: TextFn,
}

impl Spec {
    /// What this request of the command needs of the repo.
    pub fn repo_use(&self, req: &Request) -> RepoUse {
        self.repo_for.map_or(self.repo, |f| f(req))
    }

    /// Whether the CLI runs this request in its own process even when a
    /// daemon holds the repo: local-only commands, and requests that need no
    /// repo at all (`version`, `cid`, `multibase`: Kubo's `doesNotUseRepo`;
    /// `config K` reads the file). A request that writes (`config K V`) goes
    /// to the daemon, which holds the repo's lock.
    pub fn runs_locally(&self, req: &Request) -> bool {
        self.local_only || self.repo_use(req) == RepoUse::None
    }
}

/// A command that only groups others.
pub struct Group {
    pub path: &'static str,
    pub about: &'static str,
    pub long_about: &'static str,
}

/// Every command.
fn all_specs() -> Vec<Spec> {
    let mut v = Vec::new();
    v.extend(crate::cmd::block::specs());
    v.extend(crate::cmd::cid::specs());
    v.extend(crate::cmd::config::specs());
    v.extend(crate::cmd::dag::specs());
    v.extend(crate::cmd::files::specs());
    v.extend(crate::cmd::get::specs());
    v.extend(crate::cmd::id::specs());
    v.extend(crate::cmd::init::specs());
    v.extend(crate::cmd::key::specs());
    v.extend(crate::cmd::name::specs());
    v.extend(crate::cmd::misc::specs());
    v.extend(crate::cmd::multibase::specs());
    v.extend(crate::cmd::pin::specs());
    v.extend(crate::cmd::refs::specs());
    v.extend(crate::cmd::repo::specs());
    v.extend(crate::cmd::swarm::specs());
    v.extend(crate::cmd::bitswap::specs());
    v.extend(crate::cmd::routing::specs());
    v.extend(crate::cmd::values::specs());
    v.extend(crate::cmd::unixfs::specs());
    v.extend(crate::cmd::version::specs());
    v
}

/// Every group.
fn all_groups() -> Vec<Group> {
    let mut v = Vec::new();
    v.extend(crate::cmd::block::groups());
    v.extend(crate::cmd::cid::groups());
    v.extend(crate::cmd::config::groups());
    v.extend(crate::cmd::dag::groups());
    v.extend(crate::cmd::files::groups());
    v.extend(crate::cmd::key::groups());
    v.extend(crate::cmd::name::groups());
    v.extend(crate::cmd::misc::groups());
    v.extend(crate::cmd::multibase::groups());
    v.extend(crate::cmd::pin::groups());
    v.extend(crate::cmd::repo::groups());
    v.extend(crate::cmd::swarm::groups());
    v.extend(crate::cmd::bitswap::groups());
    v.extend(crate::cmd::routing::groups());
    v
}

/// The command table, built once.
pub struct Registry {
    specs: Vec<Spec>,
    defs: Vec<def::Command>,
    groups: Vec<Group>,
    by_path: HashMap<&'static str, usize>,
    globals: Vec<def::Arg>,
}

impl Registry {
    fn build() -> Self {
        let specs = all_specs();
        let defs = specs.iter().map(|s| (s.def)()).collect();
        let by_path = specs.iter().enumerate().map(|(i, s)| (s.path, i)).collect();
        Self { specs, defs, groups: all_groups(), by_path, globals: global_opts() }
    }

    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The spec and declaration for a path (`block put`).
    pub fn find(&self, path: &str) -> Option<(&Spec, &def::Command)> {
        self.by_path.get(path).map(|&i| (&self.specs[i], &self.defs[i]))
    }

    /// Whether `path` is a group (a command with subcommands only).
    pub fn is_group(&self, path: &str) -> bool {
        self.groups.iter().any(|g| g.path == path)
    }

    /// The options every command takes.
    pub fn globals(&self) -> &[def::Arg] {
        &self.globals
    }
}

/// The command table.
pub fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(Registry::build)
}

/// Every command.
pub fn specs() -> &'static [Spec] {
    registry().specs()
}

/// The spec for a path.
pub fn find(path: &str) -> Option<&'static Spec> {
    registry().find(path).map(|(s, _)| s)
}

/// The root options that reach handlers, declared once for both faces
/// (Kubo's root options; the CLI adds its own, like `--repo-dir`).
fn global_opts() -> Vec<def::Arg> {
    vec![
        def::Arg::string("enc", "The encoding type the output should be encoded with (json, text)").alias("encoding"),
        str_opt("cid-base", "Multibase encoding used for version 1 CIDs in output."),
        bool_opt("upgrade-cidv0-in-output", "Upgrade version 0 to version 1 CIDs in output."),
        bool_opt("offline", "Run the command offline."),
        bool_opt("stream-channels", "Stream channel output."),
        str_opt("timeout", "Set a global timeout on the command."),
    ]
}

/// Reads the global options of a request into [`Global`].
pub fn global_from(opts: &crate::request::Opts, default_enc: Encoding) -> Result<Global, CmdError> {
    let enc = match opts.str("enc") {
        None => default_enc,
        Some("json") => Encoding::Json,
        Some("text") => Encoding::Text,
        Some(other) => return Err(CmdError::client(format!("invalid encoding: {other}"))),
    };
    let cid_base = match opts.str("cid-base") {
        None | Some("") => None,
        Some(b) => match rubo_types::multibase::by_name(b) {
            // CIDs are printed as text; identity would print raw bytes.
            Some(rubo_types::Base::Identity) => {
                return Err(CmdError::client("the identity multibase cannot be used for CIDs in output"));
            }
            Some(base) => Some(base),
            None => return Err(CmdError::client(format!("unsupported multibase encoding: {b}"))),
        },
    };
    Ok(Global { enc, cid_base, upgrade_cidv0: opts.flag("upgrade-cidv0-in-output")?, offline: opts.flag("offline")? })
}

/// Builds the whole command tree under `root` (the CLI's parser): every
/// command's declaration in clap form, and the global options.
pub fn build_tree(mut root: clap::Command) -> clap::Command {
    let reg = registry();
    for g in reg.globals() {
        root = root.arg(g.to_clap().global(true).help_heading("Global options"));
    }
    let mut paths: Vec<&str> = reg.specs.iter().map(|s| s.path).chain(reg.groups.iter().map(|g| g.path)).collect();
    paths.sort_unstable();
    paths.dedup();
    for top in paths.iter().filter(|p| !p.contains(' ')) {
        root = root.subcommand(build_node(top, reg, &paths));
    }
    root
}

fn build_node(path: &str, reg: &Registry, paths: &[&str]) -> clap::Command {
    let name = path.rsplit(' ').next().unwrap_or(path).to_string();
    let mut cmd = match reg.find(path) {
        Some((_, d)) => d.to_clap().name(name),
        None => clap::Command::new(name),
    };
    if let Some(g) = reg.groups.iter().find(|g| g.path == path) {
        cmd = cmd.about(g.about);
        if !g.long_about.is_empty() {
            cmd = cmd.long_about(format!("{}\n\n{}", g.about, g.long_about));
        }
        if reg.find(path).is_none() {
            cmd = cmd.subcommand_required(true).arg_required_else_help(true);
        }
    }
    let prefix = format!("{path} ");
    for child in paths.iter().filter(|p| p.starts_with(&prefix) && !p[prefix.len()..].contains(' ')) {
        cmd = cmd.subcommand(build_node(child, reg, paths));
    }
    cmd
}

/// Finds the leaf command that matched and its path.
pub fn leaf<'a>(root: &'a clap::Command, matches: &'a ArgMatches) -> (Vec<String>, &'a clap::Command, &'a ArgMatches) {
    let mut path = Vec::new();
    let mut cmd = root;
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        let Some(next) = cmd.find_subcommand(name) else {
            break;
        };
        path.push(name.to_string());
        cmd = next;
        m = sub;
    }
    (path, cmd, m)
}

/// Copies what the user typed into a request: positional values to `args`,
/// options to `opts` (global ones included). Defaults are left out:
/// handlers apply them, so both faces behave alike.
pub fn fill_request(path: &str, m: &ArgMatches, req: &mut Request) {
    let reg = registry();
    let Some((_, d)) = reg.find(path) else { return };
    for arg in d.get_arguments().iter().chain(reg.globals()) {
        let id = arg.id();
        match m.try_get_raw(id) {
            Ok(Some(_)) => {}
            _ => continue,
        }
        match m.value_source(id) {
            Some(ValueSource::CommandLine) | Some(ValueSource::EnvVariable) => {}
            _ => continue,
        }
        let vals: Vec<String> =
            m.get_raw(id).map(|vs| vs.map(|v| v.to_string_lossy().into_owned()).collect()).unwrap_or_default();
        if arg.is_positional() {
            req.args.extend(vals);
        } else {
            for v in vals {
                req.opts.insert(id, v);
            }
        }
    }
}

/// Why a query could not become a request: go-ipfs-cmds answers these in
/// plain text, before the command runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("could not convert {value} to type \"bool\" (for option \"-{name}\")")]
    NotBool { name: String, value: String },
    #[error("expected key {name} to have only a single value, received [{values}]")]
    Repeated { name: String, values: String },
}

/// Builds a request from `/api/v0/<path>?arg=..&<option>=..` as go-ipfs-cmds
/// does: `arg`s in order; options by any of their names (long, short,
/// alias), stored under their canonical name; booleans `""` = true, else Go's
/// `ParseBool` of the lower-cased value; unknown names ignored, as Kubo
/// ignores them (clients send extra ones).
pub fn request_from_query(path: &str, pairs: &[(String, String)]) -> Result<Request, QueryError> {
    let reg = registry();
    let mut req = Request::new(&path.split(' ').collect::<Vec<_>>());
    let d = reg.find(path).map(|(_, d)| d);
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in pairs {
        if k == "arg" {
            req.args.push(v.clone());
            continue;
        }
        let opt = d.and_then(|d| d.option(k)).or_else(|| reg.globals().iter().find(|g| g.names().any(|n| n == *k)));
        let Some(opt) = opt else { continue };
        let value = match opt.kind() {
            OptKind::Bool => {
                let b = if v.is_empty() { Some(true) } else { parse_bool(&v.to_lowercase()) };
                match b {
                    Some(b) => b.to_string(),
                    None => {
                        let value = if v.is_empty() { "empty value".to_string() } else { format!("value {v:?}") };
                        return Err(QueryError::NotBool { name: opt.id().to_string(), value });
                    }
                }
            }
            OptKind::String | OptKind::Strings => v.clone(),
        };
        seen.entry(opt.id().to_string()).or_default().push(value);
    }
    for (name, values) in seen {
        let multiple = d.and_then(|d| d.option(&name)).is_some_and(|o| o.kind() == OptKind::Strings);
        if values.len() > 1 && !multiple {
            return Err(QueryError::Repeated { name, values: values.join(" ") });
        }
        for v in values {
            req.opts.insert(&name, v);
        }
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_has_a_unique_path_and_parses() {
        let specs = specs();
        let mut paths: Vec<&str> = specs.iter().map(|s| s.path).collect();
        let n = paths.len();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), n, "duplicate command paths");
        let tree = build_tree(clap::Command::new("rubo"));
        tree.debug_assert();
    }
}
