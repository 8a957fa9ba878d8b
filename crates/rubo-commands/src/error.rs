//! Command errors in Kubo's shape: a message and a code (0 normal, 1 client,
//! 2 implementation, 3 rate-limited, 4 forbidden), which go on the wire as
//! `{"Message":..,"Code":..,"Type":"error"}`, and beside them, never on the
//! wire, the [`ErrorKind`] the node gave, from which a face picks its status
//! without reading messages ([`CmdError::http_status`]).

pub use rubo_node::ErrorKind;
use rubo_node::NodeError;
use serde::{Deserialize, Serialize, Serializer};

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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CmdError {
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Code")]
    pub code: ErrorCode,
    /// Who is at fault, when known (errors from the node always say);
    /// otherwise [`CmdError::kind`] reads it from the code.
    #[serde(skip)]
    pub kind: Option<ErrorKind>,
}

/// Kubo's wire shape, exactly: `{"Message":..,"Code":..,"Type":"error"}`.
impl Serialize for CmdError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Error", 3)?;
        st.serialize_field("Message", &self.message)?;
        st.serialize_field("Code", &self.code)?;
        st.serialize_field("Type", "error")?;
        st.end()
    }
}

impl CmdError {
    /// A failure that is not the caller's (Kubo's `ErrNormal`).
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: ErrorCode::Normal, kind: None }
    }

    /// A usage error: the caller asked for something invalid.
    pub fn client(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: ErrorCode::Client, kind: Some(ErrorKind::Client) }
    }

    /// The node's own failure (disk, datastore, a task that died).
    pub fn internal(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: ErrorCode::Normal, kind: Some(ErrorKind::Internal) }
    }

    /// Prefixes the message, as Go's `fmt.Errorf("...: %w")`.
    pub fn context(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }

    /// Who is at fault: the node's word, else what the code says.
    pub fn kind(&self) -> ErrorKind {
        self.kind.unwrap_or(match self.code {
            ErrorCode::Client => ErrorKind::Client,
            _ => ErrorKind::Internal,
        })
    }

    /// The HTTP status for this error: 400 for the caller's mistakes, 404
    /// for content that is not there, 504 for content not fetched in time,
    /// 403 and 429 for their codes, 500 otherwise. (Kubo's RPC API answers
    /// 400 or 500 alone; a face that must match it maps by `code` instead.)
    pub fn http_status(&self) -> u16 {
        match (self.code, self.kind()) {
            (ErrorCode::Forbidden, _) => 403,
            (ErrorCode::RateLimited, _) => 429,
            (ErrorCode::Client, _) | (_, ErrorKind::Client) => 400,
            (_, ErrorKind::NotFound) => 404,
            (_, ErrorKind::Timeout) => 504,
            (_, ErrorKind::Internal) => 500,
        }
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
        let kind = e.kind();
        // Kubo's codes: only the caller's mistakes are `ErrClient`; a missing
        // block, a timeout and a disk failure are all `ErrNormal`.
        let code = if kind == ErrorKind::Client { ErrorCode::Client } else { ErrorCode::Normal };
        Self { message: e.to_string(), code, kind: Some(kind) }
    }
}

/// Storage errors go through the node's classification (a bad config key is
/// the caller's, an unreadable file the node's).
macro_rules! via_node {
    ($($t:ty),*) => {$(
        impl From<$t> for CmdError {
            fn from(e: $t) -> Self {
                NodeError::from(e).into()
            }
        }
    )*};
}

via_node!(
    rubo_repo::RepoError,
    rubo_repo::config::ConfigError,
    rubo_repo::BlockstoreError,
    rubo_repo::DatastoreError,
    rubo_types::CidError
);

impl From<std::io::Error> for CmdError {
    fn from(e: std::io::Error) -> Self {
        Self::internal(e.to_string())
    }
}

impl From<tokio::task::JoinError> for CmdError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::Cid;

    fn cid() -> Cid {
        rubo_types::parse_cid("bafkqaaa").unwrap()
    }

    #[test]
    fn wire_shape_is_kubos() {
        // go-ipfs-cmds' Error.MarshalJSON.
        let e = CmdError::from(NodeError::not_found(&cid()));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"Message":"block was not found locally (offline): ipld: could not find bafkqaaa","Code":0,"Type":"error"}"#
        );
        assert_eq!(
            serde_json::to_string(&CmdError::client("bad")).unwrap(),
            r#"{"Message":"bad","Code":1,"Type":"error"}"#
        );
        // Read back (a client of the API), the kind follows the code.
        let back: CmdError = serde_json::from_str(r#"{"Message":"bad","Code":1,"Type":"error"}"#).unwrap();
        assert_eq!((back.kind(), back.http_status()), (ErrorKind::Client, 400));
        let back: CmdError = serde_json::from_str(r#"{"Message":"x","Code":0,"Type":"error"}"#).unwrap();
        assert_eq!((back.kind(), back.http_status()), (ErrorKind::Internal, 500));
    }

    #[test]
    fn kinds_reach_the_face() {
        let status = |e: CmdError| (e.code, e.http_status());
        assert_eq!(status(NodeError::not_found(&cid()).into()), (ErrorCode::Normal, 404));
        assert_eq!(status(NodeError::Missing(Box::new(cid())).into()), (ErrorCode::Normal, 404));
        assert_eq!(status(NodeError::Timeout(Box::new(cid())).into()), (ErrorCode::Normal, 504));
        assert_eq!(status(NodeError::InvalidInput("no".into()).into()), (ErrorCode::Client, 400));
        // Disk, datastore and repo failures are the node's.
        let io = || std::io::Error::other("disk on fire");
        assert_eq!(status(io().into()), (ErrorCode::Normal, 500));
        assert_eq!(
            status(rubo_repo::RepoError::Io { path: "/r".into(), source: io() }.into()),
            (ErrorCode::Normal, 500)
        );
        let corrupt = rubo_repo::BlockstoreError::Corrupt { cid: Box::new(cid()) };
        assert_eq!(status(corrupt.into()), (ErrorCode::Normal, 500));
        let ds = rubo_repo::DatastoreError::Backend { path: "/r".into(), message: "gone".into() };
        assert_eq!(status(ds.into()), (ErrorCode::Normal, 500));
        // A usage error is the caller's.
        assert_eq!(
            status(rubo_repo::config::ConfigError::Key("Foo not found".into()).into()),
            (ErrorCode::Client, 400)
        );
        assert_eq!(status(rubo_types::parse_cid("notacid").unwrap_err().into()), (ErrorCode::Client, 400));
        assert_eq!(status(CmdError::client("argument \"cid\" is required")), (ErrorCode::Client, 400));
        assert_eq!(status(CmdError::new("errors while displaying some entries")), (ErrorCode::Normal, 500));
    }
}
