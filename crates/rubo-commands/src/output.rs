//! Command output and how the CLI writes it.
//!
//! Handlers return JSON values (one, or a stream of them) or a byte stream. The
//! HTTP face sends the values as JSON; the CLI hands them to the command's text
//! encoder. Encoders work from the JSON so that local and remote runs print alike.

use std::io::Write;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::CmdError;

/// Bounded: a slow reader slows the producer, never grows memory.
pub const STREAM_BUFFER: usize = 64;

/// What a command produced.
pub enum Output {
    /// Nothing to print.
    None,
    /// One value (go-ipfs-cmds `EmitOnce`).
    Value(Value),
    /// A stream of values (newline-delimited JSON over HTTP).
    Stream(mpsc::Receiver<Result<Value, CmdError>>),
    /// Raw bytes (`cat`, `block get`), with the content type the API sends.
    Bytes { content_type: &'static str, stream: mpsc::Receiver<Result<Bytes, CmdError>> },
}

impl Output {
    pub fn value(v: impl serde::Serialize) -> Result<Self, CmdError> {
        serde_json::to_value(v).map(Self::Value).map_err(|e| CmdError::new(e.to_string()))
    }

    /// A byte stream holding one buffer.
    pub fn bytes(content_type: &'static str, data: Bytes) -> Self {
        let (tx, rx) = mpsc::channel(1);
        // A fresh channel with room for one: this cannot fail.
        let _ = tx.try_send(Ok(data));
        Self::Bytes { content_type, stream: rx }
    }
}

/// Where the CLI writes: stdout for results, stderr for messages.
pub struct Printer<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Whether stderr is a terminal (progress bars go there only then).
    pub tty: bool,
}

impl Printer<'_> {
    pub fn out(&mut self, s: &str) -> Result<(), CmdError> {
        self.out.write_all(s.as_bytes()).map_err(write_err)
    }

    pub fn err(&mut self, s: &str) -> Result<(), CmdError> {
        self.err.write_all(s.as_bytes()).map_err(write_err)
    }
}

fn write_err(e: std::io::Error) -> CmdError {
    CmdError::new(format!("write: {e}"))
}

/// Turns a command's values into text, as Kubo's text encoders and PostRun do.
pub trait TextEncoder: Send {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError>;

    /// Called once after the last value: a place to fail the command after
    /// partial output (`block rm` of some missing blocks).
    fn finish(&mut self, _p: &mut Printer<'_>) -> Result<(), CmdError> {
        Ok(())
    }

    /// Takes a chunk of a byte output; `false` lets the CLI write it to stdout.
    fn bytes(&mut self, _chunk: bytes::Bytes, _p: &mut Printer<'_>) -> Result<bool, CmdError> {
        Ok(false)
    }
}

/// Prints values as indented JSON (commands without a text form).
pub struct JsonText;

impl TextEncoder for JsonText {
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let s = serde_json::to_string_pretty(&v).map_err(|e| CmdError::new(e.to_string()))?;
        p.out(&s)?;
        p.out("\n")
    }
}

/// An encoder from a closure over each value.
pub struct FnText<F>(pub F);

impl<F> TextEncoder for FnText<F>
where
    F: FnMut(Value, &mut Printer<'_>) -> Result<(), CmdError> + Send,
{
    fn emit(&mut self, v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
        (self.0)(v, p)
    }
}

/// Decodes a value into its typed form inside an encoder.
pub fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, CmdError> {
    serde_json::from_value(v).map_err(|e| CmdError::new(format!("unexpected response: {e}")))
}
