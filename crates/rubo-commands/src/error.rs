//! Command errors in Kubo's shape: a message and a code (0 normal, 1 client,
//! 2 implementation, 3 rate-limited, 4 forbidden), which the HTTP face turns
//! into `{"Message":..,"Code":..,"Type":"error"}` and status 400 or 500.

use rubo_node::{ErrorKind, NodeError};
use serde::{Deserialize, Serialize};

/// go-ipfs-cmds error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum ErrorCode {
    Normal = 0,
    Client = 1,
    Implementation = 2,
    RateLimited = 3,
    Forbidden = 4,
}

impl From<ErrorCode> for u8 {
    fn from(c: ErrorCode) -> u8 {
        c as u8
    }
}

impl TryFrom<u8> for ErrorCode {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        Ok(match v {
            0 => Self::Normal,
            1 => Self::Client,
            2 => Self::Implementation,
            3 => Self::RateLimited,
            4 => Self::Forbidden,
            n => return Err(format!("unknown error code {n}")),
        })
    }
}

/// A failed command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmdError {
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Code")]
    pub code: ErrorCode,
}

impl CmdError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: ErrorCode::Normal }
    }

    /// A usage error: the caller asked for something invalid.
    pub fn client(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: ErrorCode::Client }
    }

    /// Prefixes the message, as Go's `fmt.Errorf("...: %w")`.
    pub fn context(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CmdError {}

impl From<NodeError> for CmdError {
    fn from(e: NodeError) -> Self {
        let code = match e.kind() {
            ErrorKind::Client => ErrorCode::Client,
            ErrorKind::NotFound | ErrorKind::Internal => ErrorCode::Normal,
        };
        Self { message: e.to_string(), code }
    }
}

macro_rules! from_display {
    ($($t:ty),*) => {$(
        impl From<$t> for CmdError {
            fn from(e: $t) -> Self {
                Self::new(e.to_string())
            }
        }
    )*};
}

from_display!(
    rubo_repo::RepoError,
    rubo_repo::config::ConfigError,
    rubo_repo::BlockstoreError,
    std::io::Error,
    tokio::task::JoinError
);

impl From<rubo_types::CidError> for CmdError {
    fn from(e: rubo_types::CidError) -> Self {
        Self::client(e.to_string())
    }
}
