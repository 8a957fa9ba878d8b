//! `rubo multibase`: encode, decode and transcode data with multibase (Kubo's
//! `ipfs multibase`), through go-multibase's codec in [`rubo_types::multibase`].

use crate::def::{Arg, ArgAction, Command};
use bytes::Bytes;
use rubo_types::multibase::{Encoder, decode};

use crate::output::Output;
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec};
use crate::{CmdError, Request};

pub(crate) fn groups() -> Vec<Group> {
    vec![Group { path: "multibase", about: "Encode and decode files or stdin with multibase format", long_about: "" }]
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            path: "multibase encode",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Files,
            local_only: false,
            def: || {
                Command::new("encode")
                    .about("Encode data into multibase string")
                    .long_about(
                        "This command expects a file name or data provided via stdin.\n\n\
                         By default it will use URL-safe base64url encoding,\n\
                         but one can customize used base with -b:\n\n  \
                         > echo hello | rubo multibase encode -b base16 > output_file\n  \
                         > cat output_file\n  f68656c6c6f0a\n\n  \
                         > echo hello > input_file\n  \
                         > rubo multibase encode -b base16 input_file\n  f68656c6c6f0a",
                    )
                    .arg(Arg::new("file").help("data to encode"))
                    .arg(b_opt())
            },
            run: |ctx, req| Box::pin(encode_cmd(ctx, req)),
            text: |_| Box::new(crate::output::JsonText),
        },
        Spec {
            path: "multibase decode",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Files,
            local_only: false,
            def: || {
                Command::new("decode")
                    .about("Decode multibase string")
                    .long_about(
                        "This command expects multibase inside of a file or via stdin:\n\n  \
                         > echo -n hello | rubo multibase encode -b base16 > file\n  \
                         > cat file\n  f68656c6c6f\n\n  \
                         > rubo multibase decode file\n  hello\n\n  \
                         > cat file | rubo multibase decode\n  hello",
                    )
                    .arg(Arg::new("encoded_file").help("encoded data to decode"))
            },
            run: |ctx, req| Box::pin(decode_cmd(ctx, req)),
            text: |_| Box::new(crate::output::JsonText),
        },
        Spec {
            path: "multibase transcode",
            repo: RepoUse::None,
            repo_for: None,
            args: ArgKind::Files,
            local_only: false,
            def: || {
                Command::new("transcode")
                    .about("Transcode multibase string between bases")
                    .long_about(
                        "This command expects multibase inside of a file or via stdin.\n\n\
                         By default it will use URL-safe base64url encoding,\n\
                         but one can customize used base with -b:\n\n  \
                         > echo -n hello | rubo multibase encode > file\n  \
                         > cat file\n  uaGVsbG8\n\n  \
                         > rubo multibase transcode file -b base16 > transcoded_file\n  \
                         > cat transcoded_file\n  f68656c6c6f",
                    )
                    .arg(Arg::new("encoded_file").help("encoded data to decode"))
                    .arg(b_opt())
            },
            run: |ctx, req| Box::pin(transcode_cmd(ctx, req)),
            text: |_| Box::new(crate::output::JsonText),
        },
        // Kubo registers the very same command object as `cid bases`.
        crate::cmd::cid::bases_spec("multibase list"),
    ]
}

/// Kubo's `-b`: a single-dash option (`-b base16`).
fn b_opt() -> Arg {
    Arg::new("b").short('b').help("multibase encoding [default: base64url]").num_args(1).action(ArgAction::Set)
}

/// Kubo emits the result as a byte stream, which its HTTP API sends as text/plain.
const CONTENT_TYPE: &str = "text/plain";

async fn encode_cmd(_ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    // As Kubo: the encoding is checked before the input is read.
    let enc =
        Encoder::by_name(req.opts.str("b").unwrap_or("base64url")).map_err(|e| CmdError::client(e.to_string()))?;
    let data = read_input(&mut req, "file").await?;
    Ok(Output::bytes(CONTENT_TYPE, Bytes::from(enc.encode(&data))))
}

async fn decode_cmd(_ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let data = read_input(&mut req, "encoded_file").await?;
    let (_, decoded) = decode(&data).map_err(|e| CmdError::client(format!("failed to decode multibase: {e}")))?;
    Ok(Output::bytes(CONTENT_TYPE, Bytes::from(decoded)))
}

async fn transcode_cmd(_ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let enc =
        Encoder::by_name(req.opts.str("b").unwrap_or("base64url")).map_err(|e| CmdError::client(e.to_string()))?;
    let data = read_input(&mut req, "encoded_file").await?;
    let (_, decoded) = decode(&data).map_err(|e| CmdError::client(format!("failed to decode multibase: {e}")))?;
    Ok(Output::bytes(CONTENT_TYPE, Bytes::from(enc.encode(&decoded))))
}

/// The whole of the first input file (Kubo reads only the first one).
async fn read_input(req: &mut Request, arg: &str) -> Result<Vec<u8>, CmdError> {
    let mut inputs = req.take_inputs(arg)?;
    let f = inputs.next_file().await.ok_or_else(|| CmdError::client(format!("argument {arg:?} is required")))??;
    f.read_up_to(None).await.map_err(|e| CmdError::new(format!("failed to read file contents: {}", e.message)))
}
