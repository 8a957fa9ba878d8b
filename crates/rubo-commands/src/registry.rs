//! The command table: every command's path, clap definition, handler and text
//! encoder, and the assembly of the `rubo` command tree from it.

use std::future::Future;
use std::pin::Pin;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use rubo_node::Node;

use crate::CmdError;
use crate::output::{Output, TextEncoder};
use crate::request::{Opts, Request};

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
    /// Strings, read one per line from stdin when none are given (Kubo's `EnableStdin`).
    StdinStrings,
    /// File paths whose contents are the input; stdin when none are given.
    Files,
    /// Files and directories to import (`add`): walked by the face, streamed
    /// to the handler as `Request::tree`.
    Tree,
}

/// What a handler runs against.
#[derive(Clone)]
pub enum Ctx {
    None,
    Node(Node),
}

impl Ctx {
    pub fn node(&self) -> Result<&Node, CmdError> {
        match self {
            Ctx::Node(n) => Ok(n),
            Ctx::None => Err(CmdError::new("this command needs a repo")),
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
    /// Runs only in the calling process, never through a daemon (`init`, `cid`...).
    pub local_only: bool,
    /// The clap definition of this command's own arguments.
    pub def: fn() -> Command,
    pub run: Handler,
    pub text: TextFn,
}

impl Spec {
    /// What this request of the command needs of the repo.
    pub fn repo_use(&self, req: &Request) -> RepoUse {
        self.repo_for.map_or(self.repo, |f| f(req))
    }
}

/// A command that only groups others.
pub struct Group {
    pub path: &'static str,
    pub about: &'static str,
    pub long_about: &'static str,
}

/// Every command.
pub fn specs() -> Vec<Spec> {
    let mut v = Vec::new();
    v.extend(crate::cmd::block::specs());
    v.extend(crate::cmd::cid::specs());
    v.extend(crate::cmd::config::specs());
    v.extend(crate::cmd::dag::specs());
    v.extend(crate::cmd::files::specs());
    v.extend(crate::cmd::get::specs());
    v.extend(crate::cmd::id::specs());
    v.extend(crate::cmd::init::specs());
    v.extend(crate::cmd::multibase::specs());
    v.extend(crate::cmd::pin::specs());
    v.extend(crate::cmd::refs::specs());
    v.extend(crate::cmd::repo::specs());
    v.extend(crate::cmd::unixfs::specs());
    v.extend(crate::cmd::version::specs());
    v
}

/// Every group.
pub fn groups() -> Vec<Group> {
    let mut v = Vec::new();
    v.extend(crate::cmd::block::groups());
    v.extend(crate::cmd::cid::groups());
    v.extend(crate::cmd::config::groups());
    v.extend(crate::cmd::dag::groups());
    v.extend(crate::cmd::files::groups());
    v.extend(crate::cmd::multibase::groups());
    v.extend(crate::cmd::pin::groups());
    v.extend(crate::cmd::repo::groups());
    v
}

/// The spec for a path.
pub fn find(path: &str) -> Option<Spec> {
    specs().into_iter().find(|s| s.path == path)
}

/// A boolean option that takes `--name`, `--name=true` or `--name=false`, as Kubo's do.
pub fn bool_opt(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .help(help)
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("true")
        .value_parser(clap::builder::BoolishValueParser::new())
        .hide_possible_values(true)
        .action(ArgAction::Set)
}

/// A string option.
pub fn str_opt(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).help(help).num_args(1).action(ArgAction::Set)
}

/// Builds the whole command tree under `root`.
pub fn build_tree(mut root: Command) -> Command {
    let specs = specs();
    let groups = groups();
    let mut paths: Vec<&str> = specs.iter().map(|s| s.path).chain(groups.iter().map(|g| g.path)).collect();
    paths.sort_unstable();
    paths.dedup();
    for top in paths.iter().filter(|p| !p.contains(' ')) {
        root = root.subcommand(build_node(top, &specs, &groups, &paths));
    }
    root
}

fn build_node(path: &str, specs: &[Spec], groups: &[Group], paths: &[&str]) -> Command {
    let name = path.rsplit(' ').next().unwrap_or(path).to_string();
    let mut cmd = match specs.iter().find(|s| s.path == path) {
        Some(s) => (s.def)().name(name),
        None => Command::new(name),
    };
    if let Some(g) = groups.iter().find(|g| g.path == path) {
        cmd = cmd.about(g.about);
        if !g.long_about.is_empty() {
            cmd = cmd.long_about(g.long_about);
        }
        if !specs.iter().any(|s| s.path == path) {
            cmd = cmd.subcommand_required(true).arg_required_else_help(true);
        }
    }
    // Long help reads like Kubo's: the tagline, then the description.
    if let (Some(about), Some(long)) = (cmd.get_about().cloned(), cmd.get_long_about().cloned()) {
        cmd = cmd.long_about(format!("{about}\n\n{long}"));
    }
    let prefix = format!("{path} ");
    for child in paths.iter().filter(|p| p.starts_with(&prefix) && !p[prefix.len()..].contains(' ')) {
        cmd = cmd.subcommand(build_node(child, specs, groups, paths));
    }
    cmd
}

/// Finds the leaf command that matched and its path.
pub fn leaf<'a>(root: &'a Command, matches: &'a ArgMatches) -> (Vec<String>, &'a Command, &'a ArgMatches) {
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
/// options to `opts`. Defaults are left out: handlers apply them.
pub fn fill_request(cmd: &Command, m: &ArgMatches, req: &mut Request) {
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if arg.is_global_set() || id == "help" || id == "version" {
            continue;
        }
        match m.value_source(id) {
            Some(ValueSource::CommandLine) | Some(ValueSource::EnvVariable) => {}
            _ => continue,
        }
        let takes_values = !matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::Count);
        if !takes_values {
            req.opts.insert(id, "true");
            continue;
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

/// Options of a request, by name (for the HTTP face).
pub fn opts_of(req: &Request) -> &Opts {
    &req.opts
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
        let tree = build_tree(Command::new("rubo"));
        tree.debug_assert();
    }
}
