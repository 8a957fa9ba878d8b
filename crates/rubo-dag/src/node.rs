//! The IPLD data model, as go-ipld-prime's basic nodes hold it.
//!
//! Two choices follow Go rather than Rust habits, because Kubo's outputs depend
//! on them:
//!
//! - Strings are bytes ([`IpldString`]). Go strings need not be UTF-8, and
//!   neither dag-cbor nor dag-pb decoding checks them, so a block with invalid
//!   UTF-8 re-encodes to the same bytes (and the same CID) in Kubo. Only the
//!   JSON encoders replace invalid sequences, one `\ufffd` per bad byte.
//! - Maps keep their entries in the order they were decoded or built. Encoders
//!   sort (dag-cbor length-first, dag-json bytewise) or keep that order (plain
//!   `json` and `cbor`), as go-ipld-prime does; links are found in that order.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use rubo_types::Cid;

/// An IPLD string: bytes that are normally, but not necessarily, UTF-8.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpldString(Vec<u8>);

impl IpldString {
    /// Wraps raw bytes (no UTF-8 check, as in Go).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The string, if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The string with each byte of an invalid UTF-8 sequence replaced by
    /// U+FFFD, as Go's `utf8.DecodeRune` loop does (Rust's `from_utf8_lossy`
    /// replaces a truncated sequence with a single U+FFFD instead).
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        go_lossy(&self.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for IpldString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.to_string_lossy(), f)
    }
}

impl fmt::Display for IpldString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl From<&str> for IpldString {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl From<String> for IpldString {
    fn from(s: String) -> Self {
        Self(s.into_bytes())
    }
}

impl PartialEq<str> for IpldString {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for IpldString {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// Go's lossy UTF-8 reading: every byte that does not start a valid sequence
/// becomes one U+FFFD.
pub(crate) fn go_lossy(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        // The bytes of an invalid chunk are a lead byte and continuation bytes;
        // none of them starts a valid sequence, so Go replaces each one.
        for _ in chunk.invalid() {
            out.push('\u{FFFD}');
        }
    }
    Cow::Owned(out)
}

/// Records `key` as used in a map being decoded; false if it already was.
/// Small maps are checked linearly; a set is built once a map grows.
pub(crate) fn insert_key(
    entries: &[(IpldString, Node)],
    seen: &mut Option<std::collections::HashSet<Vec<u8>>>,
    key: &[u8],
) -> bool {
    const LINEAR: usize = 16;
    if let Some(set) = seen {
        return set.insert(key.to_vec());
    }
    if entries.iter().any(|(k, _)| k.as_bytes() == key) {
        return false;
    }
    if entries.len() >= LINEAR {
        let mut set: std::collections::HashSet<Vec<u8>> = entries.iter().map(|(k, _)| k.as_bytes().to_vec()).collect();
        set.insert(key.to_vec());
        *seen = Some(set);
    }
    true
}

/// The kind of a data model value, named as go-ipld-prime names kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Null,
    Bool,
    Int,
    Float,
    String,
    Bytes,
    List,
    Map,
    Link,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::String => "string",
            Kind::Bytes => "bytes",
            Kind::List => "list",
            Kind::Map => "map",
            Kind::Link => "link",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Smallest integer a node holds (Go's `int64`).
pub const INT_MIN: i128 = i64::MIN as i128;
/// Largest integer a node holds: dag-cbor keeps unsigned integers above
/// `i64::MAX` (go-ipld-prime's `UintNode`), which dag-json cannot encode.
pub const INT_MAX: i128 = u64::MAX as i128;

/// One IPLD data model value.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    /// An integer in [`INT_MIN`]`..=`[`INT_MAX`]; encoders refuse others.
    Int(i128),
    Float(f64),
    String(IpldString),
    Bytes(Bytes),
    List(Vec<Node>),
    /// Entries in insertion order; keys are unique in decoded maps.
    Map(Vec<(IpldString, Node)>),
    Link(Cid),
}

impl Node {
    pub fn kind(&self) -> Kind {
        match self {
            Node::Null => Kind::Null,
            Node::Bool(_) => Kind::Bool,
            Node::Int(_) => Kind::Int,
            Node::Float(_) => Kind::Float,
            Node::String(_) => Kind::String,
            Node::Bytes(_) => Kind::Bytes,
            Node::List(_) => Kind::List,
            Node::Map(_) => Kind::Map,
            Node::Link(_) => Kind::Link,
        }
    }

    /// A string node.
    pub fn string(s: impl Into<IpldString>) -> Node {
        Node::String(s.into())
    }

    /// A bytes node.
    pub fn bytes(b: impl Into<Bytes>) -> Node {
        Node::Bytes(b.into())
    }

    /// A map node from `(key, value)` pairs, kept in the given order.
    pub fn map<K: Into<IpldString>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The value under `key`, if this is a map that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_bytes(key.as_bytes())
    }

    /// The value under a byte-string key.
    pub fn get_bytes(&self, key: &[u8]) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k.as_bytes() == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The element at `index`, if this is a list that long.
    pub fn index(&self, index: usize) -> Option<&Node> {
        match self {
            Node::List(items) => items.get(index),
            _ => None,
        }
    }

    pub fn as_link(&self) -> Option<&Cid> {
        match self {
            Node::Link(c) => Some(c),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Node::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_string(&self) -> Option<&IpldString> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i128> {
        match self {
            Node::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Node]> {
        match self {
            Node::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(IpldString, Node)]> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Every link in this value, in data model order (map entries in their
    /// stored order, list items in order), as go-ipld-prime's
    /// `traversal.SelectLinks` finds them. Iterative: any depth is safe.
    pub fn links(&self) -> Vec<Cid> {
        let mut out = Vec::new();
        self.for_each_link(|c| out.push(*c));
        out
    }

    /// Calls `f` with each link, in the order of [`Node::links`].
    pub fn for_each_link(&self, mut f: impl FnMut(&Cid)) {
        let mut stack: Vec<&Node> = vec![self];
        while let Some(n) = stack.pop() {
            match n {
                Node::Link(c) => f(c),
                Node::List(items) => stack.extend(items.iter().rev()),
                Node::Map(entries) => stack.extend(entries.iter().rev().map(|(_, v)| v)),
                _ => {}
            }
        }
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Self {
        Node::Bool(b)
    }
}

impl From<i64> for Node {
    fn from(i: i64) -> Self {
        Node::Int(i128::from(i))
    }
}

impl From<u64> for Node {
    fn from(i: u64) -> Self {
        Node::Int(i128::from(i))
    }
}

impl From<f64> for Node {
    fn from(f: f64) -> Self {
        Node::Float(f)
    }
}

impl From<&str> for Node {
    fn from(s: &str) -> Self {
        Node::string(s)
    }
}

impl From<String> for Node {
    fn from(s: String) -> Self {
        Node::string(s)
    }
}

impl From<Cid> for Node {
    fn from(c: Cid) -> Self {
        Node::Link(c)
    }
}

impl From<Vec<Node>> for Node {
    fn from(l: Vec<Node>) -> Self {
        Node::List(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_lossy_replaces_per_byte() {
        // A truncated 3-byte sequence: Go gives two U+FFFD, Rust's lossy one.
        assert_eq!(go_lossy(b"a\xe2\x82b"), "a\u{FFFD}\u{FFFD}b");
        assert_eq!(String::from_utf8_lossy(b"a\xe2\x82b"), "a\u{FFFD}b");
        assert_eq!(go_lossy(b"\xff\xfe"), "\u{FFFD}\u{FFFD}");
        // Encoded surrogates are invalid in Go too (3 bytes, 3 replacements).
        assert_eq!(go_lossy(b"\xed\xa0\x80"), "\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(go_lossy("Čaues".as_bytes()), "Čaues");
    }

    #[test]
    fn links_in_order() {
        let a = rubo_types::parse_cid("bafkqaaa").unwrap();
        let b = rubo_types::parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        let n = Node::map([
            ("z", Node::List(vec![Node::Link(a), Node::map([("x", Node::Link(b))])])),
            ("a", Node::Link(b)),
        ]);
        assert_eq!(n.links(), vec![a, b, b]);
        assert_eq!(n.get("a"), Some(&Node::Link(b)));
        assert_eq!(n.get("q"), None);
    }
}
