//! rubo's command surface: Kubo's commands, option names, output shapes and
//! text formats, over the CoreAPI ([`rubo_node::Node`]).
//!
//! Each command is one [`Spec`]: its clap definition, its handler (a
//! [`Request`] in, an [`Output`] out) and its text encoder. The CLI parses argv
//! into a `Request`; the HTTP RPC API will build the same `Request` from
//! `/api/v0/<path>?arg=..&opt=..`. Both run the same handler, so both behave alike.

pub mod def;
pub mod error;
pub mod extract;
pub(crate) mod gotime;
pub mod input;
pub mod logctl;
pub mod output;
pub mod registry;
pub mod request;
pub(crate) mod text;

pub(crate) mod cmd;

pub use error::{CmdError, ErrorCode, ErrorKind};
pub use input::{ByteStream, InputEntry, InputKind, Inputs};
pub use output::{Output, Printer, TextEncoder};
pub use registry::{ArgKind, Ctx, RepoUse, Spec};
pub use request::{Encoding, Global, Opts, Request};

use rubo_types::{Cid, parse_cid};

/// Parses a CID argument: a bare CID, `/ipfs/<cid>`, or `ipfs://<cid>`.
pub fn cid_arg(s: &str) -> Result<Cid, CmdError> {
    let bad = |e: String| CmdError::client(format!("invalid path {s:?}: {e}"));
    let rest =
        s.strip_prefix("/ipfs/").or_else(|| s.strip_prefix("ipfs://")).or_else(|| s.strip_prefix("ipfs:")).unwrap_or(s);
    let rest = rest.trim_end_matches('/');
    if rest.contains('/') {
        return Err(bad("paths below a root CID are not supported here, expected a single CID".into()));
    }
    parse_cid(rest).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cid_args() {
        let c = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";
        assert_eq!(cid_arg(c).unwrap().to_string(), c);
        assert_eq!(cid_arg(&format!("/ipfs/{c}")).unwrap().to_string(), c);
        assert_eq!(cid_arg(&format!("ipfs://{c}")).unwrap().to_string(), c);
        assert_eq!(
            cid_arg("notacid").unwrap_err().message,
            "invalid path \"notacid\": invalid cid: selected encoding not supported"
        );
    }
}
