//! Commands as data: each command's arguments and options are declared once,
//! here, with the builder names clap uses, and both faces derive their parser
//! from the declaration: the CLI builds a clap command ([`Command::to_clap`]),
//! the HTTP RPC API reads query parameters by the same names, short names and
//! aliases ([`Command::option`]), as go-ipfs-cmds does for Kubo.

use clap::builder::ValueRange;

/// How an option or argument takes values (clap's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgAction {
    /// One value; a repeated option keeps the last.
    Set,
    /// Every value, in order.
    Append,
}

/// What an option holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptKind {
    /// `--name`, `--name=true|false`; over HTTP `name=`, `name=true`.
    Bool,
    /// A string (numbers are strings too: handlers parse them the Go way).
    String,
    /// A repeatable string.
    Strings,
}

/// One argument or option of a command.
#[derive(Debug, Clone)]
pub struct Arg {
    id: String,
    long: Option<String>,
    short: Option<char>,
    aliases: Vec<String>,
    help: String,
    long_help: Option<String>,
    num_args: Option<ValueRange>,
    action: ArgAction,
    required: bool,
    allow_hyphen: bool,
    boolish: bool,
    file: bool,
}

impl Arg {
    /// A positional argument named `id` (an option once `long` or `short` is set).
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            long: None,
            short: None,
            aliases: Vec::new(),
            help: String::new(),
            long_help: None,
            num_args: None,
            action: ArgAction::Set,
            required: false,
            allow_hyphen: false,
            boolish: false,
            file: false,
        }
    }

    /// A positional whose values name files: the CLI sends their contents
    /// (stdin when none is given), the HTTP face takes them from the body.
    pub fn file(mut self) -> Self {
        self.file = true;
        self
    }

    pub fn is_file(&self) -> bool {
        self.file
    }

    /// A boolean option: `--name`, `--name=true`, `--name=false`.
    pub fn flag(name: impl Into<String>, help: impl Into<String>) -> Self {
        let name = name.into();
        Self { long: Some(name.clone()), boolish: true, ..Self::new(name) }.help(help)
    }

    /// A string option taking one value.
    pub fn string(name: impl Into<String>, help: impl Into<String>) -> Self {
        let name = name.into();
        Self { long: Some(name.clone()), num_args: Some(1.into()), ..Self::new(name) }.help(help)
    }

    pub fn long(mut self, name: impl Into<String>) -> Self {
        self.long = Some(name.into());
        self
    }

    pub fn short(mut self, c: char) -> Self {
        self.short = Some(c);
        self
    }

    pub fn alias(mut self, a: impl Into<String>) -> Self {
        self.aliases.push(a.into());
        self
    }

    pub fn help(mut self, h: impl Into<String>) -> Self {
        self.help = h.into();
        self
    }

    /// Help shown by `--help` (the short one by `-h`).
    pub fn long_help(mut self, h: impl Into<String>) -> Self {
        self.long_help = Some(h.into());
        self
    }

    pub fn num_args(mut self, n: impl Into<ValueRange>) -> Self {
        self.num_args = Some(n.into());
        self
    }

    pub fn action(mut self, a: ArgAction) -> Self {
        self.action = a;
        self
    }

    pub fn required(mut self, r: bool) -> Self {
        self.required = r;
        self
    }

    pub fn allow_hyphen_values(mut self, a: bool) -> Self {
        self.allow_hyphen = a;
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn get_help(&self) -> &str {
        &self.help
    }

    pub fn is_positional(&self) -> bool {
        self.long.is_none() && self.short.is_none()
    }

    pub fn is_required(&self) -> bool {
        self.required
    }

    /// Takes more than one value (a variadic positional, a repeatable option).
    pub fn is_multiple(&self) -> bool {
        self.action == ArgAction::Append || self.num_args.as_ref().is_some_and(|r| r.max_values() > 1)
    }

    pub fn kind(&self) -> OptKind {
        if self.boolish {
            OptKind::Bool
        } else if self.action == ArgAction::Append {
            OptKind::Strings
        } else {
            OptKind::String
        }
    }

    /// Every name the option answers to: its long name, its short name and
    /// its aliases (go-ipfs-cmds accepts each as a query parameter).
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.long
            .iter()
            .cloned()
            .chain(self.short.map(String::from))
            .chain(self.aliases.iter().cloned())
            .chain(self.long.is_none().then(|| self.id.clone()))
    }

    /// The clap form.
    pub fn to_clap(&self) -> clap::Arg {
        let mut a = clap::Arg::new(self.id.clone()).help(self.help.clone());
        if let Some(h) = &self.long_help {
            a = a.long_help(h.clone());
        }
        if let Some(l) = &self.long {
            a = a.long(l.clone());
        }
        if let Some(s) = self.short {
            a = a.short(s);
        }
        for al in &self.aliases {
            a = a.alias(al.clone());
        }
        if self.boolish {
            return a
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("true")
                .value_parser(clap::builder::BoolishValueParser::new())
                .hide_possible_values(true)
                .action(clap::ArgAction::Set);
        }
        if let Some(n) = self.num_args {
            a = a.num_args(n);
        }
        a.action(match self.action {
            ArgAction::Set => clap::ArgAction::Set,
            ArgAction::Append => clap::ArgAction::Append,
        })
        .required(self.required)
        .allow_hyphen_values(self.allow_hyphen)
    }
}

/// A command's declaration: its name, help and arguments.
#[derive(Debug, Clone)]
pub struct Command {
    name: String,
    about: String,
    long_about: String,
    args: Vec<Arg>,
    args_conflict_with_subcommands: bool,
}

impl Command {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            about: String::new(),
            long_about: String::new(),
            args: Vec::new(),
            args_conflict_with_subcommands: false,
        }
    }

    /// A command whose arguments and subcommands exclude each other
    /// (`config <key>` beside `config show`).
    pub fn args_conflicts_with_subcommands(mut self, yes: bool) -> Self {
        self.args_conflict_with_subcommands = yes;
        self
    }

    pub fn about(mut self, s: impl Into<String>) -> Self {
        self.about = s.into();
        self
    }

    pub fn long_about(mut self, s: impl Into<String>) -> Self {
        self.long_about = s.into();
        self
    }

    pub fn arg(mut self, a: Arg) -> Self {
        self.args.push(a);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn get_about(&self) -> &str {
        &self.about
    }

    pub fn args(mut self, args: impl IntoIterator<Item = Arg>) -> Self {
        self.args.extend(args);
        self
    }

    pub fn get_arguments(&self) -> &[Arg] {
        &self.args
    }

    pub fn positionals(&self) -> impl Iterator<Item = &Arg> {
        self.args.iter().filter(|a| a.is_positional())
    }

    pub fn options(&self) -> impl Iterator<Item = &Arg> {
        self.args.iter().filter(|a| !a.is_positional())
    }

    /// The option that answers to `name` (long, short or alias).
    pub fn option(&self, name: &str) -> Option<&Arg> {
        self.options().find(|a| a.names().any(|n| n == name))
    }

    /// The clap form (help reads like Kubo's: the tagline, then the text).
    pub fn to_clap(&self) -> clap::Command {
        let mut c =
            clap::Command::new(self.name.clone()).args_conflicts_with_subcommands(self.args_conflict_with_subcommands);
        if !self.about.is_empty() {
            c = c.about(self.about.clone());
        }
        if !self.long_about.is_empty() {
            c = c.long_about(if self.about.is_empty() {
                self.long_about.clone()
            } else {
                format!("{}\n\n{}", self.about, self.long_about)
            });
        }
        for a in &self.args {
            c = c.arg(a.to_clap());
        }
        c
    }
}

/// A boolean option (Kubo's `cmds.BoolOption`).
pub fn bool_opt(name: &'static str, help: &'static str) -> Arg {
    Arg::flag(name, help)
}

/// A string option (Kubo's `cmds.StringOption`, and the numeric ones).
pub fn str_opt(name: &'static str, help: &'static str) -> Arg {
    Arg::string(name, help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_declaration_two_parsers() {
        let c = Command::new("ls")
            .arg(Arg::new("path").num_args(0..).action(ArgAction::Append))
            .arg(bool_opt("long", "Long listing.").short('l'))
            .arg(str_opt("cid-version", "CID version.").alias("cid-ver"))
            .arg(Arg::new("ignore").long("ignore").num_args(1).action(ArgAction::Append));
        // The HTTP face finds options by any of their names...
        assert_eq!(c.option("l").map(Arg::id), Some("long"));
        assert_eq!(c.option("cid-ver").map(Arg::id), Some("cid-version"));
        assert_eq!(c.option("ignore").map(Arg::kind), Some(OptKind::Strings));
        assert_eq!(c.option("long").map(Arg::kind), Some(OptKind::Bool));
        assert!(c.option("path").is_none());
        // ...and the CLI parses the same names.
        let m = c.to_clap().try_get_matches_from(["ls", "-l", "--cid-ver", "1", "a", "b"]).unwrap();
        assert_eq!(m.get_one::<bool>("long"), Some(&true));
        assert_eq!(m.get_one::<String>("cid-version").map(String::as_str), Some("1"));
        assert_eq!(m.get_many::<String>("path").unwrap().count(), 2);
    }
}
