//! A command request: the same shape whether it came from the command line or
//! from `/api/v0` (positional `arg`s, named options as strings, input files).

use std::collections::BTreeMap;

use rubo_types::{Base, Cid, Version, cid::to_v1};

use crate::CmdError;

/// Named options, as given (strings). Handlers apply defaults, so that the CLI
/// and HTTP faces behave the same.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    map: BTreeMap<String, Vec<String>>,
}

/// Parses a boolean as Go's `strconv.ParseBool` does.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

impl Opts {
    pub fn insert(&mut self, name: &str, value: impl Into<String>) {
        self.map.entry(name.to_string()).or_default().push(value.into());
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// The last value given for `name`.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(|v| v.last()).map(String::as_str)
    }

    /// Every value given for a repeatable option.
    pub fn all(&self, name: &str) -> &[String] {
        self.map.get(name).map_or(&[], Vec::as_slice)
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, CmdError> {
        match self.str(name) {
            None => Ok(None),
            Some("") => Ok(Some(true)),
            Some(v) => parse_bool(v)
                .map(Some)
                .ok_or_else(|| CmdError::client(format!("invalid value {v:?} for boolean option {name:?}"))),
        }
    }

    pub fn flag(&self, name: &str) -> Result<bool, CmdError> {
        Ok(self.bool(name)?.unwrap_or(false))
    }

    /// An integer, in Go's `ParseInt(s, 0, 64)` notations (decimal, `0x..`, `0o..`, `0b..`).
    pub fn int(&self, name: &str) -> Result<Option<i64>, CmdError> {
        let Some(v) = self.str(name) else {
            return Ok(None);
        };
        parse_int(v)
            .map(Some)
            .ok_or_else(|| CmdError::client(format!("invalid value {v:?} for integer option {name:?}")))
    }
}

/// Parses an integer as Go's `strconv.ParseInt(s, 0, 64)` (go-ipfs-cmds'
/// int64 options), with rubo's one Go-style parser.
pub fn parse_int(s: &str) -> Option<i64> {
    rubo_types::go::parse_int(s, 0, 64).ok()
}

/// How output is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Text,
    Json,
}

/// Options every command takes (the root options of Kubo's command tree that
/// reach handlers; the CLI's own, like `--repo-dir` or `--api`, stay there).
#[derive(Debug, Clone, Default)]
pub struct Global {
    pub enc: Encoding,
    /// `--cid-base`: the base output CIDs are written in.
    pub cid_base: Option<Base>,
    /// `--upgrade-cidv0-in-output`.
    pub upgrade_cidv0: bool,
    pub offline: bool,
}

impl Global {
    /// Formats a CID for output, as Kubo's `cidenc.Encoder` does: with
    /// `--cid-base` (CIDv0 upgraded to v1 unless the base is base58btc), else as is.
    pub fn cid(&self, cid: &Cid) -> String {
        match self.cid_base {
            Some(base) => {
                let c = if cid.version() == Version::V0 && (base != Base::Base58Btc || self.upgrade_cidv0) {
                    to_v1(cid)
                } else {
                    *cid
                };
                rubo_types::cid::cid_to_string(&c, base).unwrap_or_else(|_| c.to_string())
            }
            None if self.upgrade_cidv0 && cid.version() == Version::V0 => to_v1(cid).to_string(),
            None => cid.to_string(),
        }
    }
}

/// One command invocation: the same whichever face built it.
#[derive(Debug, Default)]
pub struct Request {
    /// The command path, e.g. `["block", "put"]`.
    pub path: Vec<String>,
    pub args: Vec<String>,
    pub opts: Opts,
    /// File arguments (`block put`, `add`...), streamed.
    pub inputs: Option<crate::input::Inputs>,
    pub global: Global,
}

impl Request {
    pub fn new(path: &[&str]) -> Self {
        Self { path: path.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    /// The command path joined by spaces (`block put`).
    pub fn command(&self) -> String {
        self.path.join(" ")
    }

    /// The file inputs, required.
    pub fn take_inputs(&mut self, name: &str) -> Result<crate::input::Inputs, CmdError> {
        self.inputs.take().ok_or_else(|| CmdError::client(format!("argument {name:?} is required")))
    }

    /// Positional argument `i`, required.
    pub fn arg(&self, i: usize, name: &str) -> Result<&str, CmdError> {
        self.args.get(i).map(String::as_str).ok_or_else(|| CmdError::client(format!("argument {name:?} is required")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_ints_and_bools() {
        assert_eq!(parse_int("32"), Some(32));
        assert_eq!(parse_int("0x20"), Some(32));
        assert_eq!(parse_int("040"), Some(32));
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("x"), None);
        assert_eq!(parse_bool("T"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }
}
