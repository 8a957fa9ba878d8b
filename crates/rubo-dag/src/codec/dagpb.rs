//! dag-pb (0x70) in the data model, as go-codec-dagpb v1.7 decodes and encodes it.
//!
//! Decoding accepts `Data` before or after the links (go-codec-dagpb has since
//! 2021; `rubo_types::dagpb::PbNode` is stricter and refuses Data first), but
//! not links on both sides of it. A link's Hash is read as a CID from the front
//! of the field, trailing bytes ignored; Name is kept as raw bytes; Tsize is a
//! varint read as Go's `int64(v)` (so values above `i64::MAX` wrap negative).
//!
//! Two data model forms exist in Kubo (see [`PbForm`]); both always have
//! `Links`. Encoding takes either: a map with a `Links` list (required) and
//! optional `Data` bytes, links being maps with a `Hash` link and optional
//! `Name` string and non-negative `Tsize` int. Nulls and unknown keys are
//! refused, and links are written stably sorted by name, then `Data`.

use bytes::Bytes;
use rubo_types::Cid;
use rubo_types::cid::cid_prefix_from_bytes;
use rubo_types::pb::{self, FieldReader, FieldValue};

use super::CodecError;
use crate::node::{IpldString, Node};

/// How a dag-pb block appears as a data model value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PbForm {
    /// A plain map, as go-codec-dagpb builds into a basic node: `dag put
    /// --input-codec dag-pb`, selector traversals, `dag export`. Absent `Data`,
    /// `Name` and `Tsize` are missing keys; keys are in wire order.
    #[default]
    Plain,
    /// The schema-typed node Kubo's DAG service returns, which `dag get` prints:
    /// keys `Links`, `Data` and `Hash`, `Name`, `Tsize` always present, absent
    /// ones reading as null (`{"Data":null,"Links":[]}` for an empty block).
    Typed,
}

/// One link of a dag-pb block as go-codec-dagpb reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPbLink {
    pub cid: Cid,
    /// The name's raw bytes (Go does not check UTF-8).
    pub name: Option<IpldString>,
    /// `int64(varint)`, as Go assigns it.
    pub tsize: Option<i64>,
}

/// A dag-pb block as go-codec-dagpb reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawPbNode {
    pub links: Vec<RawPbLink>,
    pub data: Option<Bytes>,
    /// Whether `Data` came before the links on the wire.
    pub data_first: bool,
}

fn invalid(msg: impl Into<String>) -> CodecError {
    CodecError::Invalid(msg.into())
}

fn pb_err(e: pb::PbError) -> CodecError {
    invalid(e.to_string())
}

/// Reads a dag-pb block with go-codec-dagpb's rules, borrowing `Data`.
pub fn decode_raw(block: &Bytes) -> Result<RawPbNode, CodecError> {
    decode_fields(block, |d| block.slice_ref(d))
}

/// Reads a dag-pb block from a slice (copies only `Data`).
pub fn decode_raw_slice(block: &[u8]) -> Result<RawPbNode, CodecError> {
    decode_fields(block, Bytes::copy_from_slice)
}

fn decode_fields(block: &[u8], data_of: impl Fn(&[u8]) -> Bytes) -> Result<RawPbNode, CodecError> {
    let mut node = RawPbNode::default();
    let mut links_done = false;
    let mut in_links = false;
    for field in FieldReader::new(block) {
        let (num, value) = field.map_err(pb_err)?;
        let FieldValue::Len(bytes) = value else {
            return Err(invalid(format!(
                "protobuf: (PBNode) invalid wireType, expected 2, got {}",
                wire_type_number(&value)
            )));
        };
        match num {
            1 => {
                if node.data.is_some() {
                    return Err(invalid("protobuf: (PBNode) duplicate Data section"));
                }
                if in_links {
                    in_links = false;
                    links_done = true;
                } else {
                    node.data_first = true;
                }
                node.data = Some(data_of(bytes));
            }
            2 => {
                if !in_links {
                    if links_done {
                        return Err(invalid("protobuf: (PBNode) duplicate Links section"));
                    }
                    in_links = true;
                }
                node.links.push(decode_link(bytes)?);
            }
            n => return Err(invalid(format!("protobuf: (PBNode) invalid fieldNumber, expected 1 or 2, got {n}"))),
        }
    }
    if node.links.is_empty() {
        node.data_first = true;
    }
    Ok(node)
}

fn wire_type_number(v: &FieldValue<'_>) -> u8 {
    match v {
        FieldValue::Varint(_) => 0,
        FieldValue::Fixed64(_) => 1,
        FieldValue::Len(_) => 2,
        FieldValue::Fixed32(_) => 5,
    }
}

fn decode_link(buf: &[u8]) -> Result<RawPbLink, CodecError> {
    let mut cid = None;
    let mut name: Option<IpldString> = None;
    let mut tsize = None;
    for field in FieldReader::new(buf) {
        let (num, value) = field.map_err(pb_err)?;
        match num {
            1 => {
                if cid.is_some() {
                    return Err(invalid("protobuf: (PBLink) duplicate Hash section"));
                }
                if name.is_some() {
                    return Err(invalid("protobuf: (PBLink) invalid order, found Name before Hash"));
                }
                if tsize.is_some() {
                    return Err(invalid("protobuf: (PBLink) invalid order, found Tsize before Hash"));
                }
                let FieldValue::Len(b) = value else {
                    return Err(invalid(format!(
                        "protobuf: (PBLink) wrong wireType ({}) for Hash",
                        wire_type_number(&value)
                    )));
                };
                // go-cid's CidFromBytes: the CID at the front; trailing bytes ignored.
                let (c, _) = cid_prefix_from_bytes(b)
                    .map_err(|e| invalid(format!("invalid Hash field found in link, expected CID ({e})")))?;
                cid = Some(c);
            }
            2 => {
                if name.is_some() {
                    return Err(invalid("protobuf: (PBLink) duplicate Name section"));
                }
                if tsize.is_some() {
                    return Err(invalid("protobuf: (PBLink) invalid order, found Tsize before Name"));
                }
                let FieldValue::Len(b) = value else {
                    return Err(invalid(format!(
                        "protobuf: (PBLink) wrong wireType ({}) for Name",
                        wire_type_number(&value)
                    )));
                };
                name = Some(IpldString::from_bytes(b));
            }
            3 => {
                if tsize.is_some() {
                    return Err(invalid("protobuf: (PBLink) duplicate Tsize section"));
                }
                let FieldValue::Varint(v) = value else {
                    return Err(invalid(format!(
                        "protobuf: (PBLink) wrong wireType ({}) for Tsize",
                        wire_type_number(&value)
                    )));
                };
                tsize = Some(v as i64);
            }
            n => {
                return Err(invalid(format!("protobuf: (PBLink) invalid fieldNumber, expected 1, 2 or 3, got {n}")));
            }
        }
    }
    let cid = cid.ok_or_else(|| invalid("invalid Hash field found in link, expected CID"))?;
    Ok(RawPbLink { cid, name, tsize })
}

impl RawPbNode {
    /// The data model value in the given form.
    pub fn to_node(&self, form: PbForm) -> Node {
        let links = Node::List(self.links.iter().map(|l| l.to_node(form)).collect());
        let data = self.data.clone().map(Node::Bytes);
        match form {
            PbForm::Typed => Node::map([("Links", links), ("Data", data.unwrap_or(Node::Null))]),
            PbForm::Plain => match data {
                None => Node::map([("Links", links)]),
                Some(d) if self.data_first => Node::map([("Data", d), ("Links", links)]),
                Some(d) => Node::map([("Links", links), ("Data", d)]),
            },
        }
    }
}

impl RawPbLink {
    fn to_node(&self, form: PbForm) -> Node {
        let mut entries = vec![(IpldString::from("Hash"), Node::Link(self.cid))];
        let name = self.name.clone().map(Node::String);
        let tsize = self.tsize.map(Node::from);
        match form {
            PbForm::Typed => {
                entries.push(("Name".into(), name.unwrap_or(Node::Null)));
                entries.push(("Tsize".into(), tsize.unwrap_or(Node::Null)));
            }
            PbForm::Plain => {
                if let Some(n) = name {
                    entries.push(("Name".into(), n));
                }
                if let Some(t) = tsize {
                    entries.push(("Tsize".into(), t));
                }
            }
        }
        Node::Map(entries)
    }
}

/// Decodes a dag-pb block into the data model.
pub(crate) fn decode(data: &[u8], form: PbForm) -> Result<Node, CodecError> {
    Ok(decode_raw_slice(data)?.to_node(form))
}

struct EncLink<'a> {
    cid: &'a Cid,
    name: Option<&'a IpldString>,
    tsize: Option<u64>,
}

fn wrong_kind(what: &str, want: &str, got: &Node) -> CodecError {
    CodecError::Unencodable(format!("invalid DAG-PB form ({what} must be {want}, got {})", got.kind()))
}

/// Encodes a data model value as dag-pb, as go-codec-dagpb's `Encode` does
/// after building the value into its schema type.
pub(crate) fn encode(node: &Node) -> Result<Vec<u8>, CodecError> {
    let Node::Map(entries) = node else {
        return Err(wrong_kind("node", "a map", node));
    };
    let mut links_node = None;
    let mut data = None;
    for (k, v) in entries {
        match k.as_bytes() {
            b"Links" => links_node = Some(v),
            b"Data" => match v {
                Node::Bytes(b) => data = Some(b),
                other => return Err(wrong_kind("Data", "bytes", other)),
            },
            _ => {
                return Err(CodecError::Unencodable(format!(
                    "invalid DAG-PB form (extraneous property {:?})",
                    k.to_string_lossy()
                )));
            }
        }
    }
    let links = match links_node {
        Some(Node::List(l)) => l,
        Some(other) => return Err(wrong_kind("Links", "a list", other)),
        None => return Err(CodecError::Unencodable("invalid DAG-PB form (missing required fields: Links)".into())),
    };
    let mut enc_links = Vec::with_capacity(links.len());
    for l in links {
        let Node::Map(fields) = l else {
            return Err(wrong_kind("link", "a map", l));
        };
        let (mut cid, mut name, mut tsize) = (None, None, None);
        for (k, v) in fields {
            match (k.as_bytes(), v) {
                (b"Hash", Node::Link(c)) => cid = Some(c),
                (b"Hash", other) => return Err(wrong_kind("Hash", "a link", other)),
                (b"Name", Node::String(s)) => name = Some(s),
                (b"Name", other) => return Err(wrong_kind("Name", "a string", other)),
                (b"Tsize", Node::Int(i)) => {
                    let i = i64::try_from(*i)
                        .map_err(|_| CodecError::Unencodable(format!("Tsize {i} does not fit an int64")))?;
                    if i < 0 {
                        return Err(CodecError::Unencodable(format!("Link has negative Tsize value [{i}]")));
                    }
                    tsize = Some(i as u64);
                }
                (b"Tsize", other) => return Err(wrong_kind("Tsize", "an int", other)),
                _ => {
                    return Err(CodecError::Unencodable(format!(
                        "invalid DAG-PB form (extraneous property {:?} on link)",
                        k.to_string_lossy()
                    )));
                }
            }
        }
        let cid = cid.ok_or_else(|| CodecError::Unencodable("invalid DAG-PB form (link must have a Hash)".into()))?;
        enc_links.push(EncLink { cid, name, tsize });
    }
    // Stable by name; an absent name sorts as "".
    enc_links.sort_by(|a, b| {
        let an: &[u8] = a.name.map_or(&[], |n| n.as_bytes());
        let bn: &[u8] = b.name.map_or(&[], |n| n.as_bytes());
        an.cmp(bn)
    });
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for l in &enc_links {
        buf.clear();
        pb::put_bytes_field(&mut buf, 1, &l.cid.to_bytes());
        if let Some(n) = l.name {
            pb::put_bytes_field(&mut buf, 2, n.as_bytes());
        }
        if let Some(t) = l.tsize {
            pb::put_varint_field(&mut buf, 3, t);
        }
        pb::put_bytes_field(&mut out, 2, &buf);
    }
    if let Some(d) = data {
        pb::put_bytes_field(&mut out, 1, d);
    }
    Ok(out)
}

/// The links of a dag-pb block, in order, without building data model values.
pub(crate) fn links(data: &[u8]) -> Result<Vec<RawPbLink>, CodecError> {
    Ok(decode_fields(data, |_| Bytes::new())?.links)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_first_accepted_but_not_split_links() {
        // Data, then a link: accepted by go-codec-dagpb (not by rubo-types).
        let c = rubo_types::parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        let mut link = Vec::new();
        pb::put_bytes_field(&mut link, 1, &c.to_bytes());
        let mut block = vec![0x0a, 0x01, 0x08];
        pb::put_bytes_field(&mut block, 2, &link);
        let n = decode(&block, PbForm::Plain).unwrap();
        assert_eq!(n.as_map().unwrap()[0].0, "Data");
        // Re-encoding puts the links first.
        let enc = encode(&n).unwrap();
        assert_eq!(enc[0], 0x12);
        // links, data, links: refused
        let mut split = Vec::new();
        pb::put_bytes_field(&mut split, 2, &link);
        split.extend_from_slice(&[0x0a, 0x00]);
        pb::put_bytes_field(&mut split, 2, &link);
        assert!(decode(&split, PbForm::Plain).is_err());
    }

    #[test]
    fn forms() {
        let empty = decode(&[], PbForm::Plain).unwrap();
        assert_eq!(empty, Node::map([("Links", Node::List(vec![]))]));
        let typed = decode(&[], PbForm::Typed).unwrap();
        assert_eq!(typed, Node::map([("Links", Node::List(vec![])), ("Data", Node::Null)]));
        assert!(encode(&typed).is_err());
        assert_eq!(encode(&empty).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn sorts_links_by_name() {
        let c = rubo_types::parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        let link = |name: Option<&str>| {
            let mut e = vec![("Hash", Node::Link(c))];
            if let Some(n) = name {
                e.push(("Name", Node::string(n)));
            }
            Node::map(e)
        };
        let n = Node::map([("Links", Node::List(vec![link(Some("b")), link(None), link(Some("a"))]))]);
        let back = decode(&encode(&n).unwrap(), PbForm::Plain).unwrap();
        let names: Vec<_> = back
            .get("Links")
            .unwrap()
            .as_list()
            .unwrap()
            .iter()
            .map(|l| l.get("Name").map(|n| n.as_string().unwrap().to_string()))
            .collect();
        assert_eq!(names, vec![None, Some("a".to_string()), Some("b".to_string())]);
    }

    #[test]
    fn tsize_wraps_like_go() {
        let c = rubo_types::parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        let mut link = Vec::new();
        pb::put_bytes_field(&mut link, 1, &c.to_bytes());
        pb::put_varint_field(&mut link, 3, u64::MAX);
        let mut block = Vec::new();
        pb::put_bytes_field(&mut block, 2, &link);
        let raw = decode_raw(&Bytes::from(block)).unwrap();
        assert_eq!(raw.links[0].tsize, Some(-1));
        assert!(encode(&raw.to_node(PbForm::Plain)).is_err());
    }
}
