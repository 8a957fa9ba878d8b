//! `rubo cid`: convert and discover properties of CIDs (Kubo's `ipfs cid`).
//!
//! CID strings are decoded by rubo's one CID parser ([`rubo_types::parse_cid`],
//! go-cid's rules and errors), encoded with go-multibase's codec
//! ([`rubo_types::multibase`]).

use crate::def::{Arg, ArgAction, Command};
use rubo_types::cid::{multihash_from_bytes, to_v0};
use rubo_types::multibase::{self as mb, Encoder};
use rubo_types::{Cid, Version, codec, go, hash, parse_cid};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::output::{FnText, Output, Printer, STREAM_BUFFER, TextEncoder, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt, str_opt};
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![Group { path: "cid", about: "Convert and discover properties of CIDs", long_about: "" }]
}

/// cidutil's `FormatRef`, verbatim.
const FORMAT_REF: &str = "
   %% literal %
   %b multibase name
   %B multibase code
   %v version string
   %V version number
   %c codec name
   %C codec code
   %h multihash name
   %H multihash code
   %L hash digest length
   %m multihash encoded in base %b (with multibase prefix)
   %M multihash encoded in base %b without multibase prefix
   %d hash digest encoded in base %b (with multibase prefix)
   %D hash digest encoded in base %b without multibase prefix
   %s cid string encoded in base %b (1)
   %S cid string encoded in base %b without multibase prefix
   %P cid prefix: %v-%c-%h-%L

(1) For CID version 0 the multibase must be base58btc and no prefix is
used.  For Cid version 1 the multibase prefix is included.
";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            path: "cid format",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("format")
                    .about("Format and convert a CID in various useful ways.")
                    .long_about(format!(
                        "Format and converts <cid>'s in various useful ways.\n\n\
                         For a human-readable breakdown of a CID, see 'rubo cid inspect'.\n\n\
                         The optional format string is a printf style format string:\n{FORMAT_REF}"
                    ))
                    .arg(cid_args("CIDs to format."))
                    .arg(short_opt("f", "Printf style format string. [default: %s]"))
                    .arg(short_opt("v", "CID version to convert to."))
                    .arg(str_opt("mc", "CID multicodec to convert to."))
                    .arg(short_opt("b", "Multibase to display CID in."))
            },
            run: |ctx, req| Box::pin(format_cmd(ctx, req)),
            text: |_| Box::new(FormatText { failed: false }),
        },
        Spec {
            path: "cid base32",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("base32")
                    .about("Convert CIDs to Base32 CID version 1.")
                    .long_about(
                        "'rubo cid base32' normalizes passed CIDs to their canonical case-insensitive encoding.\n\
                         Useful when processing third-party CIDs which could come with arbitrary formats.",
                    )
                    .arg(cid_args("CIDs to convert."))
            },
            run: |ctx, req| Box::pin(base32_cmd(ctx, req)),
            text: |_| Box::new(FormatText { failed: false }),
        },
        bases_spec("cid bases"),
        Spec {
            path: "cid codecs",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("codecs")
                    .about("List available CID multicodecs.")
                    .long_about(
                        "'rubo cid codecs' lists the IPLD codecs of the multicodec table\n\
                         (https://github.com/multiformats/multicodec), as Kubo does.",
                    )
                    .arg(bool_opt("numeric", "also include numeric codes").short('n'))
                    .arg(bool_opt("supported", "list only codecs supported by rubo commands").short('s'))
            },
            run: |ctx, req| Box::pin(codecs_cmd(ctx, req)),
            text: codes_text,
        },
        Spec {
            path: "cid hashes",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Strings,
            local_only: false,
            def: || {
                Command::new("hashes")
                    .about("List available multihashes.")
                    .long_about(
                        "'rubo cid hashes' lists the multihash functions Kubo allows in CIDs\n\
                         (https://github.com/multiformats/multihash).",
                    )
                    .arg(bool_opt("numeric", "also include numeric codes").short('n'))
                    .arg(bool_opt("supported", "list only codecs supported by rubo commands").short('s'))
            },
            run: |ctx, req| Box::pin(hashes_cmd(ctx, req)),
            text: codes_text,
        },
        Spec {
            path: "cid inspect",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::StdinStrings,
            local_only: false,
            def: || {
                Command::new("inspect")
                    .about("Inspect and display detailed information about a CID.")
                    .long_about(
                        "'rubo cid inspect' breaks down a CID and displays its components:\n\
                         - CID version (0 or 1)\n\
                         - Multibase encoding (explicit for CIDv1, implicit for CIDv0)\n\
                         - Multicodec (DAG type)\n\
                         - Multihash (hash algorithm, length, and digest)\n\
                         - Equivalent CIDv0 and CIDv1 representations\n\n\
                         For CIDv0, multibase, multicodec, and multihash are marked as\n\
                         implicit because they are not explicitly encoded in the binary.\n\n\
                         If a PeerID string is provided instead of a CID, a helpful error\n\
                         with the equivalent CID representation is returned.\n\n\
                         Use --enc=json for machine-readable output same as the HTTP RPC API.",
                    )
                    .arg(Arg::new("cid").help("CID to inspect."))
            },
            run: |ctx, req| Box::pin(inspect_cmd(ctx, req)),
            text: |_| Box::new(FnText(inspect_text)),
        },
    ]
}

/// `cid bases`, also registered as `multibase list` (one command object in Kubo).
pub(crate) fn bases_spec(path: &'static str) -> Spec {
    Spec {
        path,
        repo: RepoUse::None,
        repo_for: None,
        args: ArgKind::Strings,
        local_only: false,
        def: || {
            Command::new("bases")
                .about("List available multibase encodings.")
                .long_about(
                    "Lists the multibase encodings (https://github.com/multiformats/multibase)\n\
                     that go-multibase, and so Kubo, supports.",
                )
                .arg(bool_opt("prefix", "also include the single letter prefixes in addition to the code"))
                .arg(bool_opt("numeric", "also include numeric codes"))
        },
        run: |ctx, req| Box::pin(bases_cmd(ctx, req)),
        text: |req| {
            let prefix = req.opts.flag("prefix").unwrap_or(false);
            let numeric = req.opts.flag("numeric").unwrap_or(false);
            Box::new(FnText(move |v, p: &mut Printer<'_>| {
                let mut list: Vec<CodeAndName> = typed(v)?;
                sort_bases(&mut list);
                let mut s = String::new();
                for e in list {
                    // Non-printable prefixes (identity's NUL) show as a space.
                    let c =
                        u32::try_from(e.code).ok().and_then(char::from_u32).filter(|c| !c.is_control()).unwrap_or(' ');
                    s.push_str(&match (prefix, numeric) {
                        (true, true) => format!("{c} {:>7}  {}\n", e.code, e.name),
                        (true, false) => format!("{c}  {}\n", e.name),
                        (false, true) => format!("{:>7}  {}\n", e.code, e.name),
                        (false, false) => format!("{}\n", e.name),
                    });
                }
                p.out(&s)
            }))
        },
    }
}

/// The variadic `cid` argument, read from stdin lines when none is given.
fn cid_args(help: &'static str) -> Arg {
    Arg::new("cid").help(help).num_args(0..).action(ArgAction::Append)
}

/// One of Kubo's single-letter string options (`-f`, `-v`, `-b`).
fn short_opt(id: &'static str, help: &'static str) -> Arg {
    let c = id.chars().next().unwrap_or('?');
    Arg::new(id).short(c).help(help).num_args(1).action(ArgAction::Set)
}

/// Kubo's `CodeAndName`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CodeAndName {
    #[serde(rename = "Code")]
    code: i64,
    #[serde(rename = "Name")]
    name: String,
}

/// Kubo's `multibaseSorter`: by lower-cased prefix, lower case before upper case.
fn sort_bases(list: &mut [CodeAndName]) {
    let lower = |code: i64| {
        u32::try_from(code)
            .ok()
            .and_then(char::from_u32)
            .and_then(|c| c.to_lowercase().next())
            .map_or(code, |c| i64::from(u32::from(c)))
    };
    list.sort_by(|a, b| lower(a.code).cmp(&lower(b.code)).then_with(|| b.code.cmp(&a.code)));
}

async fn bases_cmd(_ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    req.opts.flag("prefix")?;
    req.opts.flag("numeric")?;
    let mut list: Vec<CodeAndName> = mb::BASES
        .iter()
        .map(|(b, n)| CodeAndName { code: i64::from(u32::from(b.code())), name: (*n).to_string() })
        .collect();
    // Kubo sends Go's map order (random); the sorted order is as good.
    sort_bases(&mut list);
    Output::value(list)
}

/// `cid codecs` and `cid hashes` text: sorted by code, `%5d  %s` with `--numeric`.
fn codes_text(req: &Request) -> Box<dyn TextEncoder> {
    let numeric = req.opts.flag("numeric").unwrap_or(false);
    Box::new(FnText(move |v, p: &mut Printer<'_>| {
        let mut list: Vec<CodeAndName> = typed(v)?;
        list.sort_by_key(|e| e.code);
        let mut s = String::new();
        for e in list {
            if numeric {
                s.push_str(&format!("{:>5}  {}\n", e.code, e.name));
            } else {
                s.push_str(&format!("{}\n", e.name));
            }
        }
        p.out(&s)
    }))
}

async fn codecs_cmd(_ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    req.opts.flag("numeric")?;
    let supported = req.opts.flag("supported")?;
    // Kubo's --supported lists what go-ipld-prime has encoders or decoders for,
    // plus libp2p-key: that includes its git-raw and dag-jose plugins, which rubo
    // does not have. rubo lists what it supports: `codec::SUPPORTED`.
    let list: Vec<CodeAndName> = codec::IPLD_CODECS
        .iter()
        .filter(|(c, _)| !supported || codec::SUPPORTED.contains(c))
        .map(|(c, n)| CodeAndName { code: *c as i64, name: (*n).to_string() })
        .collect();
    Output::value(list)
}

/// Every code with a go-multihash name (`mh.Codes`).
fn multihash_codes() -> Vec<u64> {
    let mut v = vec![
        hash::IDENTITY,
        hash::SHA1,
        hash::SHA2_256,
        hash::SHA2_512,
        hash::SHA3_512,
        hash::SHA3_384,
        hash::SHA3_256,
        hash::SHA3_224,
        hash::SHAKE_128,
        hash::SHAKE_256,
        hash::KECCAK_224,
        hash::KECCAK_256,
        hash::KECCAK_384,
        hash::KECCAK_512,
        hash::BLAKE3,
        hash::MURMUR3_X64_64,
        hash::DBL_SHA2_256,
        hash::MD5,
        hash::SHA2_256_TRUNC254_PADDED,
        hash::X11,
        hash::POSEIDON_BLS12_381_A2_FC1,
    ];
    v.extend(hash::BLAKE2B_MIN..=hash::BLAKE2B_MAX);
    v.extend(hash::BLAKE2S_MIN..=hash::BLAKE2S_MAX);
    v.sort_unstable();
    v
}

async fn hashes_cmd(_ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    req.opts.flag("numeric")?;
    // As in Kubo, --supported is accepted and changes nothing: the list is the
    // hashes allowed in CIDs (boxo verifcid), all of which rubo computes.
    req.opts.flag("supported")?;
    let list: Vec<CodeAndName> = multihash_codes()
        .into_iter()
        .filter(|c| hash::is_allowed(*c))
        .filter_map(|c| hash::name_of(c).map(|name| CodeAndName { code: c as i64, name }))
        .collect();
    Output::value(list)
}

// ---------------------------------------------------------------------------
// cid format / cid base32

/// Kubo's `CidFormatRes` (no JSON tags: Go field names, all always present).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct CidFormatRes {
    #[serde(rename = "CidStr")]
    cid_str: String,
    #[serde(rename = "Formatted")]
    formatted: String,
    #[serde(rename = "ErrorMsg")]
    error_msg: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conv {
    V0,
    V1,
}

/// Kubo's `cidFormatOpts`.
#[derive(Debug, Clone)]
struct FormatOpts {
    fmt: String,
    /// None: the CID's own base (base58btc for CIDv0).
    new_base: Option<Encoder>,
    conv: Option<Conv>,
    /// 0: keep the codec.
    new_codec: u64,
}

async fn format_cmd(_ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    if req.args.is_empty() {
        return Err(CmdError::client("argument \"cid\" is required"));
    }
    let opts = format_opts(&req)?;
    Ok(stream_cids(req.args, opts))
}

async fn base32_cmd(_ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    if req.args.is_empty() {
        return Err(CmdError::client("argument \"cid\" is required"));
    }
    let opts = FormatOpts {
        fmt: "%s".into(),
        new_base: Some(Encoder::new(i64::from(mb::BASE32)).map_err(|e| CmdError::new(e.to_string()))?),
        conv: Some(Conv::V1),
        new_codec: 0,
    };
    Ok(stream_cids(req.args, opts))
}

/// Kubo's option checks for `cid format`, in its order.
fn format_opts(req: &Request) -> Result<FormatOpts, CmdError> {
    let fmt = req.opts.str("f").unwrap_or("%s");
    if !fmt.contains('%') {
        return Err(CmdError::client(format!("invalid format string: {}", go::quote(fmt.as_bytes()))));
    }
    let codec_str = req.opts.str("mc").unwrap_or("");
    let new_codec = if codec_str.is_empty() {
        0
    } else {
        codec::parse_multicodec(codec_str)
            .ok_or_else(|| CmdError::client(format!("unknown multicodec: {}", go::quote(codec_str.as_bytes()))))?
    };
    let base_str = req.opts.str("b").unwrap_or("");
    let conv = match req.opts.str("v").unwrap_or("") {
        "" => (!base_str.is_empty()).then_some(Conv::V1),
        "0" => {
            if new_codec != 0 && new_codec != codec::DAG_PB {
                return Err(CmdError::client("cannot convert to CIDv0 with any codec other than dag-pb"));
            }
            if !base_str.is_empty() && base_str != "base58btc" {
                return Err(CmdError::client(
                    "cannot convert to CIDv0 with any multibase other than the implicit base58btc",
                ));
            }
            Some(Conv::V0)
        }
        "1" => Some(Conv::V1),
        v => {
            return Err(CmdError::client(format!("invalid cid version: {}", go::quote(v.as_bytes()))));
        }
    };
    let new_base = if base_str.is_empty() {
        None
    } else {
        Some(Encoder::by_name(base_str).map_err(|e| CmdError::client(e.to_string()))?)
    };
    Ok(FormatOpts { fmt: fmt.to_string(), new_base, conv, new_codec })
}

/// Kubo's `emitCids`: one result per CID, in order; a bad format string ends
/// the stream with an error.
fn stream_cids(args: Vec<String>, opts: FormatOpts) -> Output {
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        for s in args {
            let item = match format_entry(&s, &opts) {
                Ok(res) => serde_json::to_value(res).map_err(|e| CmdError::new(e.to_string())),
                Err(fatal) => Err(CmdError::client(fatal)),
            };
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                return;
            }
        }
    });
    Output::Stream(rx)
}

/// Formats one CID string. `Err` only for a bad format string, which stops the
/// command; every other problem is the entry's `ErrorMsg`.
fn format_entry(s: &str, opts: &FormatOpts) -> Result<CidFormatRes, String> {
    let mut res = CidFormatRes { cid_str: s.to_string(), ..Default::default() };
    let mut c = match parse_cid(s) {
        Ok(c) => c,
        Err(e) => {
            res.error_msg = e.to_string();
            return Ok(res);
        }
    };
    if opts.new_codec != 0 && opts.new_codec != c.codec() {
        c = Cid::new_v1(opts.new_codec, *c.hash());
    }
    match opts.conv {
        Some(Conv::V1) => c = Cid::new_v1(c.codec(), *c.hash()),
        Some(Conv::V0) => match to_v0(&c) {
            Ok(v0) => c = v0,
            Err(e) => {
                res.error_msg = e.to_string();
                return Ok(res);
            }
        },
        None => {}
    }
    let base = match opts.new_base {
        Some(e) => i64::from(e.code()),
        None if c.version() == Version::V0 => i64::from(mb::BASE58BTC),
        None => extract_encoding(s),
    };
    match format_cid(opts.fmt.as_bytes(), base, &c) {
        Ok(out) => res.formatted = String::from_utf8_lossy(&out).into_owned(),
        Err(FmtError::Spec(m)) => return Err(m),
        Err(FmtError::Other(m)) => res.error_msg = m,
    }
    Ok(res)
}

/// go-cid's `ExtractEncoding` (its first *byte*), -1 when there is none.
fn extract_encoding(s: &str) -> i64 {
    let b = s.as_bytes();
    if b.len() < 2 {
        return -1;
    }
    if b.len() == 46 && b.starts_with(b"Qm") {
        return i64::from(mb::BASE58BTC);
    }
    let code = i64::from(b[0]);
    if mb::name_of_code(code).is_some() { code } else { -1 }
}

/// Kubo's text output of `cid format`/`base32`: results on stdout, per-entry
/// errors on stderr, and a final error if there were any.
struct FormatText {
    failed: bool,
}

impl TextEncoder for FormatText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let r: CidFormatRes = typed(v)?;
        if !r.error_msg.is_empty() {
            self.failed = true;
            p.err(&format!("{}: {}\n", r.cid_str, r.error_msg))
        } else {
            p.out(&format!("{}\n", r.formatted))
        }
    }

    fn finish(&mut self, _p: &mut Printer<'_>) -> Result<(), CmdError> {
        if self.failed { Err(CmdError::new("errors while displaying some entries")) } else { Ok(()) }
    }
}

/// How `cidutil.Format` fails.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FmtError {
    /// A bad format string (`FormatStringError`): the command stops.
    Spec(String),
    /// Anything else: an error for this entry.
    Other(String),
}

/// go-cidutil's `Format`: `fmt` is read byte by byte; output is bytes, as `%B`
/// and `%M`/`%D`/`%S` of base256emoji give partial UTF-8 in Go too.
fn format_cid(fmt: &[u8], base: i64, c: &Cid) -> Result<Vec<u8>, FmtError> {
    let enc = Encoder::new(base).map_err(|e| FmtError::Other(e.to_string()))?;
    let version = match c.version() {
        Version::V0 => 0,
        Version::V1 => 1,
    };
    let mh = c.hash();
    let (codec, mh_type, mh_len) = (c.codec(), mh.code(), mh.size());
    let encode = |data: &[u8], strip: bool| {
        let s = enc.encode(data);
        if strip { s[1..].to_vec() } else { s }
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            out.push(fmt[i]);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&verb) = fmt.get(i) else {
            return Err(FmtError::Spec("premature end of format string".into()));
        };
        match verb {
            b'%' => out.push(b'%'),
            b'b' => out.extend_from_slice(mb::name_of_code(base).unwrap_or_default().as_bytes()),
            // Go writes byte(base): base256emoji's 0x1F680 gives 0x80.
            b'B' => out.push(base as u8),
            b'v' => out.extend_from_slice(format!("cidv{version}").as_bytes()),
            b'V' => out.extend_from_slice(format!("{version}").as_bytes()),
            b'c' => out.extend_from_slice(codec_to_string(codec).as_bytes()),
            b'C' => out.extend_from_slice(format!("{codec}").as_bytes()),
            b'h' => out.extend_from_slice(hash_to_string(mh_type).as_bytes()),
            b'H' => out.extend_from_slice(format!("{mh_type}").as_bytes()),
            b'L' => out.extend_from_slice(format!("{mh_len}").as_bytes()),
            b'm' | b'M' => out.extend(encode(&mh.to_bytes(), verb == b'M')),
            b'd' | b'D' => out.extend(encode(mh.digest(), verb == b'D')),
            b's' => match c.version() {
                Version::V0 if enc.code() != mb::BASE58BTC => {
                    return Err(FmtError::Other("invalid base encoding".into()));
                }
                Version::V0 => out.extend_from_slice(c.to_string().as_bytes()),
                Version::V1 => out.extend(enc.encode(&c.to_bytes())),
            },
            b'S' => out.extend(encode(&c.to_bytes(), true)),
            b'P' => out.extend_from_slice(
                format!("cidv{version}-{}-{}-{mh_len}", codec_to_string(codec), hash_to_string(mh_type)).as_bytes(),
            ),
            _ => {
                return Err(FmtError::Spec(format!(
                    "unrecognized specifier in format string: {}",
                    String::from_utf8_lossy(&fmt[i - 1..=i])
                )));
            }
        }
        i += 1;
    }
    Ok(out)
}

/// go-multicodec's `Code.String()`.
fn codec_to_string(code: u64) -> String {
    codec::multicodec_name(code).map_or_else(|| format!("Code({code})"), str::to_string)
}

/// cidutil's `hashToString`.
fn hash_to_string(code: u64) -> String {
    hash::name_of(code).unwrap_or_else(|| format!("hash?{code}"))
}

// ---------------------------------------------------------------------------
// cid inspect

/// Kubo's `CidInspectRes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct InspectRes {
    #[serde(rename = "cid")]
    cid: String,
    #[serde(rename = "version")]
    version: i64,
    #[serde(rename = "multibase")]
    multibase: InspectBase,
    #[serde(rename = "multicodec")]
    multicodec: InspectCodec,
    #[serde(rename = "multihash")]
    multihash: InspectHash,
    #[serde(rename = "cidV0", default, skip_serializing_if = "String::is_empty")]
    cid_v0: String,
    #[serde(rename = "cidV1")]
    cid_v1: String,
    #[serde(rename = "errorMsg", default, skip_serializing_if = "String::is_empty")]
    error_msg: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct InspectBase {
    prefix: String,
    name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct InspectCodec {
    code: u64,
    name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct InspectHash {
    code: u64,
    name: String,
    length: i64,
    digest: String,
}

async fn inspect_cmd(_ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let s = req.arg(0, "cid")?;
    Output::value(inspect(s))
}

fn inspect(s: &str) -> InspectRes {
    let c = match parse_cid(s) {
        Ok(c) => c,
        Err(e) => {
            let mut msg = format!("invalid CID: {e}");
            if let Some(k) = peer_id_cid(s) {
                msg.push_str(&format!("\nNote: the value is a PeerID; inspect its CID representation instead:\n  {k}"));
            }
            return InspectRes { cid: s.to_string(), error_msg: msg, ..Default::default() };
        }
    };
    let multibase = if c.version() == Version::V0 {
        InspectBase { prefix: "z".into(), name: "base58btc".into() }
    } else {
        // Go's string(rune(-1)) is U+FFFD (a base256emoji CID, whose first byte
        // is no prefix).
        let code = extract_encoding(s);
        InspectBase {
            prefix: u32::try_from(code)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or(char::REPLACEMENT_CHARACTER)
                .to_string(),
            name: mb::name_of_code(code).unwrap_or_default().to_string(),
        }
    };
    let mh = c.hash();
    let v1 = Cid::new_v1(c.codec(), *mh);
    let v1_base = if c.codec() == codec::LIBP2P_KEY { mb::BASE36 } else { mb::BASE32 };
    let cid_v1 = Encoder::new(i64::from(v1_base))
        .map(|e| String::from_utf8_lossy(&e.encode(&v1.to_bytes())).into_owned())
        .unwrap_or_else(|_| v1.to_string());
    InspectRes {
        cid: s.to_string(),
        version: match c.version() {
            Version::V0 => 0,
            Version::V1 => 1,
        },
        multibase,
        multicodec: InspectCodec {
            code: c.codec(),
            name: codec::multicodec_name(c.codec()).unwrap_or("unknown").to_string(),
        },
        multihash: InspectHash {
            code: mh.code(),
            name: hash::name_of(mh.code()).unwrap_or_else(|| "unknown".into()),
            length: i64::from(mh.size()),
            digest: hex::encode(mh.digest()),
        },
        cid_v0: match to_v0(&c) {
            Ok(v0) => v0.to_string(),
            Err(_) => String::new(),
        },
        cid_v1,
        error_msg: String::new(),
    }
}

/// libp2p's `peer.Decode` then `peer.ToCid`, in base36: the CID of a PeerID
/// string (a base58 multihash starting `Qm` or `1`).
fn peer_id_cid(s: &str) -> Option<String> {
    if !(s.starts_with("Qm") || s.starts_with('1')) {
        return None;
    }
    let bytes = mb::base58btc_decode(s.as_bytes()).ok()?;
    let mh = multihash_from_bytes(&bytes).ok()?;
    let c = Cid::new_v1(codec::LIBP2P_KEY, mh);
    let e = Encoder::new(i64::from(mb::BASE36)).ok()?;
    Some(String::from_utf8_lossy(&e.encode(&c.to_bytes())).into_owned())
}

/// Kubo's text form of `cid inspect`; an error result fails the command.
fn inspect_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let r: InspectRes = typed(v)?;
    if !r.error_msg.is_empty() {
        return Err(CmdError::new(r.error_msg));
    }
    let implicit = if r.version == 0 { ", implicit" } else { "" };
    let mut s = format!("CID:        {}\nVersion:    {}\n", r.cid, r.version);
    if r.version == 0 {
        s.push_str(&format!("Multibase:  {} (implicit)\n", r.multibase.name));
    } else {
        s.push_str(&format!("Multibase:  {} ({})\n", r.multibase.name, r.multibase.prefix));
    }
    s.push_str(&format!("Multicodec: {} (0x{:x}{implicit})\n", r.multicodec.name, r.multicodec.code));
    s.push_str(&format!("Multihash:  {} (0x{:x}{implicit})\n", r.multihash.name, r.multihash.code));
    s.push_str(&format!("  Length:   {} bytes\n", r.multihash.length));
    s.push_str(&format!("  Digest:   {}\n", r.multihash.digest));
    if !r.cid_v0.is_empty() {
        s.push_str(&format!("CIDv0:      {}\n", r.cid_v0));
    } else if r.multicodec.code != codec::DAG_PB {
        s.push_str(&format!(
            "CIDv0:      not possible, requires dag-pb (0x70), got {} (0x{:x})\n",
            r.multicodec.name, r.multicodec.code
        ));
    } else if r.multihash.code != hash::SHA2_256 {
        s.push_str(&format!(
            "CIDv0:      not possible, requires sha2-256 (0x12), got {} (0x{:x})\n",
            r.multihash.name, r.multihash.code
        ));
    } else if r.multihash.length != 32 {
        s.push_str(&format!("CIDv0:      not possible, requires 32-byte digest, got {}\n", r.multihash.length));
    }
    s.push_str(&format!("CIDv1:      {}\n", r.cid_v1));
    p.out(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V0: &str = "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR";

    /// go-cid's `Decode`, errors as text.
    fn decode_cid(s: &str) -> Result<Cid, String> {
        parse_cid(s).map_err(|e| e.to_string())
    }
    const V1: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

    fn fmt(f: &str, base: i64, cid: &str) -> Result<String, FmtError> {
        let c = decode_cid(cid).unwrap();
        format_cid(f.as_bytes(), base, &c).map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn z() -> i64 {
        i64::from(mb::BASE58BTC)
    }

    fn b() -> i64 {
        i64::from(mb::BASE32)
    }

    #[test]
    fn format_verbs() {
        // The notes' worked example (cidutil.Format on this CID).
        assert_eq!(
            fmt("%b %B %v %V %c %C %h %H %L %P", z(), V0).unwrap(),
            "base58btc z cidv0 0 dag-pb 112 sha2-256 18 32 cidv0-dag-pb-sha2-256-32"
        );
        assert_eq!(fmt("%m", z(), V0).unwrap(), format!("z{V0}"));
        for v in ["%M", "%s", "%S"] {
            assert_eq!(fmt(v, z(), V0).unwrap(), V0, "{v}");
        }
        assert_eq!(fmt("%d", z(), V0).unwrap(), "zEBCF56KgGPfGFDuS6wFHrDGsUk2pgi9fK285Vk3xffiR");
        assert_eq!(fmt("%D", z(), V0).unwrap(), "EBCF56KgGPfGFDuS6wFHrDGsUk2pgi9fK285Vk3xffiR");
        assert_eq!(fmt("%s", b(), V1).unwrap(), V1);
        assert_eq!(fmt("%S", b(), V1).unwrap(), &V1[1..]);
        assert_eq!(fmt("%m", b(), V1).unwrap(), "bciqmhrdth3ek77igz6pj75ip7rv42lwiljqxaaclw4ewnhbr32kdsgq");
        assert_eq!(fmt("%d", b(), V1).unwrap(), "bypchgpwiv76qnt46t72q77dlzuxmqwtboaaexnyjm2oddxuuhena");
        assert_eq!(fmt("%v-%V %b%%B", b(), V1).unwrap(), "cidv1-1 base32%B");
        assert_eq!(fmt("cid: %s!", b(), V1).unwrap(), format!("cid: {V1}!"));
        assert_eq!(fmt("%s", i64::from(u32::from(b'B')), V1).unwrap(), V1.to_uppercase());
        // %B is one byte: base256emoji's code 0x1F680 gives 0x80.
        let c = decode_cid(V1).unwrap();
        assert_eq!(format_cid(b"%B", i64::from(mb::BASE256EMOJI), &c).unwrap(), [0x80]);
        assert_eq!(
            fmt("%s", i64::from(mb::BASE256EMOJI), V1).unwrap(),
            "🚀🪐⭐💻😅❓💎🌈🌸🌚💰💍🌒😵🐶💁🤐🌎👼🙃🙅☺🌚😞🤤⭐🚀😃✈🌕😚🍻💜🐷⚽✌😊"
        );
        // Names of codecs and hashes rubo does not know.
        let odd = "bagm3gaqseawpetn2l6ykgdrg5a5svrnz4kpbwfq6lqp2oqs6omcdgyutromci";
        assert_eq!(fmt("%c %C %P", b(), odd).unwrap(), "Code(39321) 39321 cidv1-Code(39321)-sha2-256-32");
        let c = Cid::new_v1(codec::RAW, rubo_types::Multihash::wrap(0x20, &[1; 48]).unwrap());
        assert_eq!(String::from_utf8(format_cid(b"%h %H %L %c", b(), &c).unwrap()).unwrap(), "hash?32 32 48 raw");
    }

    #[test]
    fn format_errors() {
        assert_eq!(fmt("%x", z(), V0), Err(FmtError::Spec("unrecognized specifier in format string: %x".into())));
        assert_eq!(fmt("abc%", z(), V0), Err(FmtError::Spec("premature end of format string".into())));
        // The base is checked before the format string.
        assert_eq!(fmt("%x", -1, V1), Err(FmtError::Other("unsupported multibase encoding: -1".into())));
        assert_eq!(fmt("%s", b(), V0), Err(FmtError::Other("invalid base encoding".into())));
        // A multi-byte character after % gives Go's two bytes (here made lossy).
        assert_eq!(
            fmt("%é", z(), V0),
            Err(FmtError::Spec("unrecognized specifier in format string: %\u{fffd}".into()))
        );
    }

    fn opts(fmt: &str, base: Option<&str>, conv: Option<Conv>, codec: u64) -> FormatOpts {
        FormatOpts { fmt: fmt.into(), new_base: base.map(|b| Encoder::by_name(b).unwrap()), conv, new_codec: codec }
    }

    fn entry(s: &str, o: &FormatOpts) -> (String, String) {
        let r = format_entry(s, o).unwrap();
        (r.formatted, r.error_msg)
    }

    #[test]
    fn format_entries() {
        let ok = |s: &str| (s.to_string(), String::new());
        // Kubo's t0290-cid.sh / cid_test.go vectors.
        let v0 = "QmS4ustL54uo8FzR9455qaxZwuMiUhyvMcX9Ba8nUH4uVv";
        let b32 = "bafybeibxm2nsadl3fnxv2sxcxmxaco2jl53wpeorjdzidjwf5aqdg7wa6u";
        let v1z = "zdj7WZAAFKPvYPPzyJLso2hhxo8a7ZACFQ4DvvfrNXTHidofr";
        assert_eq!(entry(v0, &opts("%s", Some("base32"), Some(Conv::V1), 0)), ok(b32));
        assert_eq!(entry(v0, &opts("%s", None, Some(Conv::V1), 0)), ok(v1z));
        assert_eq!(entry(b32, &opts("%s", Some("base58btc"), Some(Conv::V1), 0)), ok(v1z));
        assert_eq!(entry(b32, &opts("%s", None, Some(Conv::V0), 0)), ok(v0));
        let pb = "bafybeievd6mwe6vcwnkwo3eizs3h7w3a34opszbyfxziqdxguhjw7imdve";
        let raw = "bafkreievd6mwe6vcwnkwo3eizs3h7w3a34opszbyfxziqdxguhjw7imdve";
        assert_eq!(entry(pb, &opts("%s", Some("base32"), Some(Conv::V1), codec::RAW)), ok(raw));
        assert_eq!(
            entry(raw, &opts("%s", None, Some(Conv::V0), codec::DAG_PB)),
            ok("QmYNmQKp6SuaVrpgWRsPTgCQCnpxUYGq76YEKBXuj2N4H6")
        );
        assert_eq!(
            entry(pb, &opts("%s", None, None, codec::DAG_CBOR)),
            ok("bafyreievd6mwe6vcwnkwo3eizs3h7w3a34opszbyfxziqdxguhjw7imdve")
        );
        // --mc on a CIDv0 makes a CIDv1, kept in base58btc.
        assert_eq!(
            entry(V0, &opts("%s", None, None, codec::RAW)),
            ok("zb2rhjpUSESZ3JQ65hRJhuReftqm8hibuf6d8BQSc5VDYqXz9")
        );
        assert_eq!(
            entry(V0, &opts("%s", None, Some(Conv::V1), 0)),
            ok("zdj7Wic6KcJAfWz1c9o4M6kq9Lwd5BfbxkVafnrojaaGiSFxM")
        );
        // The input's base is kept, upper case included.
        let upper = V1.to_uppercase();
        assert_eq!(entry(&upper, &opts("%s", None, None, 0)), ok(&upper));
        // A base256emoji input without -b: go-cid reads its first byte as the base.
        let emoji = "🚀🪐⭐💻😅❓💎🌈🌸🌚💰💍🌒😵🐶💁🤐🌎👼🙃🙅☺🌚😞🤤⭐🚀😃✈🌕😚🍻💜🐷⚽✌😊";
        assert_eq!(
            entry(emoji, &opts("%s", None, None, 0)),
            (String::new(), "unsupported multibase encoding: -1".into())
        );
        assert_eq!(entry(emoji, &opts("%s", Some("base32"), Some(Conv::V1), 0)), ok(V1));
        // Per-entry errors.
        assert_eq!(
            entry("notacid", &opts("%s", None, None, 0)),
            (String::new(), "invalid cid: selected encoding not supported".into())
        );
        assert_eq!(
            entry(raw, &opts("%s", None, Some(Conv::V0), 0)),
            (String::new(), "can't convert non-dag-pb nodes to cidv0".into())
        );
        let blake = "bafykbzacedpcgxk4hnx6ajz2vaqqb7h5s44jmkpdcqqngvh6ksmhz5kbtfebe";
        assert_eq!(
            entry(blake, &opts("%s", None, Some(Conv::V0), 0)),
            (String::new(), "invalid cid: invalid hash for cidv0 45600-32".into())
        );
        // A bad format string stops everything.
        assert_eq!(
            format_entry(V0, &opts("%x", None, None, 0)),
            Err("unrecognized specifier in format string: %x".into())
        );
        // ...but not before the CID is decoded.
        assert!(format_entry("notacid", &opts("%x", None, None, 0)).is_ok());
    }

    #[test]
    fn go_cid_decode_errors() {
        let err = |s: &str| decode_cid(s).unwrap_err();
        assert_eq!(err(""), "invalid cid: cid too short");
        assert_eq!(err("b"), "invalid cid: cid too short");
        for s in ["garbage", "not-a-cid", "invalid-cid", "notacid"] {
            assert_eq!(err(s), "invalid cid: selected encoding not supported");
        }
        assert_eq!(err("bad-cid"), "invalid cid: illegal base32 data at input byte 2");
        assert_eq!(err("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMn0"), "invalid cid: input isn't valid multihash");
        for s in ["ba", "bae"] {
            assert_eq!(err(s), "invalid cid: invalid cid: varints malformed, could not reach the end");
        }
        assert_eq!(
            err("bajkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"),
            "invalid cid: invalid cid: expected 1 as the cid version number, got: 2"
        );
        assert_eq!(
            err("bafkreifk"),
            "invalid cid: invalid cid: length greater than remaining number of bytes in buffer"
        );
        assert_eq!(err("bafkre"), "invalid cid: invalid cid: multihash too short. must be >= 2 bytes");
        assert_eq!(
            err("bagaaaeraftze3os7wcrq4jxihmvmlopctynrmhs4d6tuexttaqzwfe4ltasa"),
            "invalid cid: invalid cid: varint not minimally encoded"
        );
        assert_eq!(err("bafkqaakbii"), "invalid cid: trailing bytes in data buffer passed to cid Cast");
        assert_eq!(err("bciqcz4snxjp3biyoe3ua"), "invalid cid: invalid cid: not enough bytes for cid v0");
        // A multibase-wrapped bare sha2-256 multihash is a CIDv0.
        for s in [
            "bciqcz4snxjp3biyoe3udwkwfxhrj4gywdzob7j2clzzqim3csofzqja",
            "zQmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5",
        ] {
            let c = decode_cid(s).unwrap();
            assert_eq!(c.to_string(), "QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5");
        }
        // Upper-case base32 and mixed case go through, as with go-base32.
        assert_eq!(decode_cid(&V1.to_uppercase()).unwrap().to_string(), V1);
        assert_eq!(decode_cid(&format!("b{}", V1[1..].to_uppercase())).unwrap().to_string(), V1);
    }

    #[test]
    fn inspects() {
        let r = inspect(V0);
        assert_eq!(r.version, 0);
        assert_eq!(r.multibase.name, "base58btc");
        assert_eq!(r.multicodec.name, "dag-pb");
        assert_eq!(r.multihash.length, 32);
        assert_eq!(r.multihash.digest, "c3c4733ec8affd06cf9e9ff50ffc6bcd2ec85a6170004bb709669c31de94391a");
        assert_eq!(r.cid_v0, V0);
        assert_eq!(r.cid_v1, V1);
        let r = inspect("bafkqabdumvzxi");
        assert_eq!(r.multihash.name, "identity");
        assert_eq!(r.multihash.digest, "74657374");
        assert_eq!(r.cid_v0, "");
        let r = inspect("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
        assert_eq!(
            r.error_msg,
            "invalid CID: invalid cid: selected encoding not supported\n\
             Note: the value is a PeerID; inspect its CID representation instead:\n  \
             k51qzi5uqu5dhdmyb9bd18pypu2wp5lpv2xnskfmrqa4lb5knqryrotb05e7or"
        );
        assert_eq!(inspect("garbage").error_msg, "invalid CID: invalid cid: selected encoding not supported");
        // libp2p-key CIDs show their CIDv1 in base36.
        let r = inspect("bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7j6vrnbwpfpnqlb2crhzb4wkag");
        assert_eq!(r.multicodec.name, "libp2p-key");
        assert!(r.cid_v1.starts_with('k'), "{}", r.cid_v1);
    }

    #[test]
    fn lists() {
        let mut l: Vec<CodeAndName> = mb::BASES
            .iter()
            .map(|(b, n)| CodeAndName { code: i64::from(u32::from(b.code())), name: (*n).into() })
            .collect();
        sort_bases(&mut l);
        let names: Vec<&str> = l.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(&names[..4], ["identity", "base2", "base32", "base32upper"]);
        assert_eq!(names.last(), Some(&"base256emoji"));
        let allowed: Vec<u64> = multihash_codes().into_iter().filter(|c| hash::is_allowed(*c)).collect();
        assert_eq!(allowed.len(), 73);
    }
}
