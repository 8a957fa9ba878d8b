//! `rubo get`: a file or tree out of the node, as a tar stream (gzip with
//! `-C`), which the CLI unpacks unless asked for the archive, as Kubo does.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use bytes::Bytes;
use clap::{Arg, Command};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rubo_node::rubo_unixfs::export::{self, FileReader, NodeKind};
use rubo_node::{IpfsPath, NodeError};
use rubo_types::{Block, Cid};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::output::{ChannelWriter, Output, Printer, TextEncoder};
use crate::registry::{ArgKind, Ctx, RepoUse, Spec, bool_opt, str_opt};
use crate::{CmdError, Request};

pub(crate) fn specs() -> Vec<Spec> {
    vec![Spec {
        path: "get",
        repo: RepoUse::Read,
        repo_for: None,
        args: ArgKind::StdinStrings,
        local_only: false,
        def: || {
            Command::new("get")
                .about("Download IPFS objects.")
                .long_about(
                    "Stores to disk the data contained an IPFS or IPNS object(s) at the given path.\n\n\
                     By default, the output will be stored at './<ipfs-path>', but an alternate\n\
                     path can be specified with '--output=<path>' or '-o=<path>'.\n\n\
                     To output a TAR archive instead of unpacked files, use '--archive' or '-a'.\n\n\
                     To compress the output with GZIP compression, use '--compress' or '-C'. You\n\
                     may also specify the level of compression by specifying '-l=<1-9>'.",
                )
                .arg(Arg::new("ipfs-path").help("The path to the IPFS object(s) to be outputted."))
                .arg(str_opt("output", "The path where the output should be stored.").short('o'))
                .arg(bool_opt("archive", "Output a TAR archive.").short('a'))
                .arg(bool_opt("compress", "Compress the output with GZIP compression.").short('C'))
                .arg(str_opt("compression-level", "The level of compression (1-9).").short('l'))
                .arg(
                    bool_opt("progress", "Stream progress data. Defaults to true when stderr is a terminal.")
                        .short('p'),
                )
        },
        run: |ctx, req| Box::pin(get(ctx, req)),
        text: |req| Box::new(GetText::new(req)),
    }]
}

fn compression(req: &Request) -> Result<Option<u32>, CmdError> {
    if !req.opts.flag("compress")? {
        return Ok(None);
    }
    match req.opts.int("compression-level")? {
        None => Ok(Some(6)),
        Some(l @ 1..=9) => Ok(Some(l as u32)),
        Some(_) => Err(CmdError::client("compression level must be between 1 and 9")),
    }
}

/// Sends what is written as byte chunks over the output channel.
fn header(kind: tar::EntryType, mode: Option<u32>, mtime: Option<i64>, default_mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode.unwrap_or(default_mode));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    h.set_mtime(mtime.map_or(now, |t| t.max(0) as u64));
    h.set_size(0);
    h
}

fn write_tar<W: Write>(
    w: W,
    name: &str,
    root: &Block,
    get: &mut dyn FnMut(&Cid) -> Result<Block, NodeError>,
) -> Result<W, String> {
    let mut tb = tar::Builder::new(w);
    tb.mode(tar::HeaderMode::Complete);
    let mut visit = |item: export::WalkItem,
                     block: &Block,
                     get: &mut dyn FnMut(&Cid) -> Result<Block, NodeError>|
     -> Result<(), String> {
        let path = if item.path.is_empty() { name.to_string() } else { format!("{name}/{}", item.path) };
        let mtime = item.mtime.map(|t| t.seconds);
        match item.kind {
            NodeKind::Directory | NodeKind::HamtDirectory => {
                let mut h = header(tar::EntryType::Directory, item.mode, mtime, 0o755);
                tb.append_data(&mut h, &path, std::io::empty()).map_err(|e| e.to_string())
            }
            NodeKind::File { size } => {
                let mut h = header(tar::EntryType::Regular, item.mode, mtime, 0o644);
                h.set_size(size);
                let reader = FileReader::new(block.clone(), |c: &Cid| get(c));
                // A DAG whose leaves disagree with its declared size must not
                // produce a corrupt archive: tar checks the byte count.
                tb.append_data(&mut h, &path, reader.take(size)).map_err(|e| e.to_string())
            }
            NodeKind::Symlink { target } => {
                let mut h = header(tar::EntryType::Symlink, item.mode, mtime, 0o777);
                tb.append_link(&mut h, &path, &target).map_err(|e| e.to_string())
            }
            NodeKind::Other => Err(format!("{}: not a UnixFS node", item.cid)),
        }
    };
    export::walk_tree(root, get, &mut visit).map_err(|e| e.to_string())?;
    tb.into_inner().map_err(|e| e.to_string())
}

async fn get(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let level = compression(&req)?;
    let archive = req.opts.flag("archive")?;
    let arg = req.arg(0, "ipfs-path")?.to_string();
    let path = IpfsPath::parse(&arg)?;
    let cid = node.unixfs().resolve(&path).await?;
    let api = node.unixfs();
    let bs = node.repo().blockstore();
    let name = path
        .rest
        .last()
        .cloned()
        .unwrap_or_else(|| arg.trim_end_matches('/').rsplit('/').next().unwrap_or(&arg).to_string());
    let root = {
        let bs = bs.clone();
        tokio::task::spawn_blocking(move || bs.get(&cid)).await?.map_err(CmdError::from)?
    };
    let root = root.ok_or_else(|| CmdError::from(NodeError::not_found(&cid)))?;
    let is_file = matches!(api.stat(&cid).await?.kind, NodeKind::File { .. });
    if !archive && level.is_some() && !is_file {
        return Err(CmdError::new("file is not regular"));
    }
    let content_type = if level.is_some() { "application/gzip" } else { "application/x-tar" };
    let (tx, rx) = mpsc::channel(8);
    let err_tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let mut get = |c: &Cid| -> Result<Block, NodeError> { bs.get(c)?.ok_or_else(|| NodeError::not_found(c)) };
        let w = ChannelWriter::new(tx, 256 << 10);
        let res: Result<(), String> = (|| match level {
            Some(l) => {
                let gz = flate2::write::GzEncoder::new(w, flate2::Compression::new(l));
                let mut gz = if !archive && is_file {
                    let mut gz = gz;
                    let mut r = FileReader::new(root.clone(), &mut get);
                    std::io::copy(&mut r, &mut gz).map_err(|e| e.to_string())?;
                    gz
                } else {
                    write_tar(gz, &name, &root, &mut get)?
                };
                gz.flush().map_err(|e| e.to_string())?;
                let mut w = gz.finish().map_err(|e| e.to_string())?;
                w.flush().map_err(|e| e.to_string())
            }
            None => {
                let mut w = write_tar(w, &name, &root, &mut get)?;
                w.flush().map_err(|e| e.to_string())
            }
        })();
        if let Err(e) = res {
            let _ = err_tx.blocking_send(Err(CmdError::new(e)));
        }
    });
    Ok(Output::Bytes { content_type, stream: rx })
}

/// The CLI half: saves the archive, or unpacks it under the output path.
struct GetText {
    out_path: PathBuf,
    archive_path: Option<PathBuf>,
    progress: bool,
    pipe: Option<std::sync::mpsc::SyncSender<Option<Bytes>>>,
    worker: Option<std::thread::JoinHandle<Result<(), String>>>,
    bar: Option<ProgressBar>,
}

impl GetText {
    fn new(req: &Request) -> Self {
        let arg = req.args.first().cloned().unwrap_or_default();
        let out = match req.opts.str("output") {
            Some(o) => PathBuf::from(o),
            None => PathBuf::from(arg.trim_end_matches('/').rsplit('/').next().unwrap_or(&arg)),
        };
        let archive = req.opts.flag("archive").unwrap_or(false);
        let compress = req.opts.flag("compress").unwrap_or(false);
        let archive_path = if archive || compress {
            let mut s = out.display().to_string();
            if archive && !s.ends_with(".tar") && !s.ends_with(".tar.gz") {
                s.push_str(".tar");
            }
            if compress && !s.ends_with(".gz") {
                s.push_str(".gz");
            }
            Some(PathBuf::from(s))
        } else {
            None
        };
        let progress = match req.opts.bool("progress").unwrap_or(None) {
            Some(p) => p,
            None => std::io::IsTerminal::is_terminal(&std::io::stderr()),
        };
        Self { out_path: out, archive_path, progress, pipe: None, worker: None, bar: None }
    }

    fn start(&mut self, p: &mut Printer<'_>) -> Result<(), CmdError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Option<Bytes>>(8);
        let reader = PipeReader { rx, current: Bytes::new(), done: false };
        let worker = match &self.archive_path {
            Some(path) => {
                p.out(&format!("Saving archive to {}\n", path.display()))?;
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut f = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                    let mut r = reader;
                    std::io::copy(&mut r, &mut f).map_err(|e| e.to_string())?;
                    f.sync_all().map_err(|e| e.to_string())
                })
            }
            None => {
                p.out(&format!("Saving file(s) to {}\n", self.out_path.display()))?;
                let out = self.out_path.clone();
                std::thread::spawn(move || extract(reader, &out))
            }
        };
        if self.progress {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{bytes} [{wide_bar}] {binary_bytes_per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            self.bar = Some(bar);
        }
        self.pipe = Some(tx);
        self.worker = Some(worker);
        Ok(())
    }
}

struct PipeReader {
    rx: std::sync::mpsc::Receiver<Option<Bytes>>,
    current: Bytes,
    done: bool,
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Some(b)) => self.current = b,
                Ok(None) | Err(_) => self.done = true,
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// Unpacks a tar stream so that its top entry lands at `out`; refuses any
/// entry that would land outside it.
fn extract(reader: impl Read, out: &Path) -> Result<(), String> {
    let mut ar = tar::Archive::new(reader);
    let entries = ar.entries().map_err(|e| e.to_string())?;
    let mut top: Option<PathBuf> = None;
    for entry in entries {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let raw = entry.path().map_err(|e| e.to_string())?.into_owned();
        let mut comps = raw.components();
        let first = match comps.next() {
            Some(Component::Normal(c)) => PathBuf::from(c),
            _ => return Err(format!("unsafe path in archive: {}", raw.display())),
        };
        match &top {
            None => top = Some(first),
            Some(t) if *t == first => {}
            Some(_) => return Err(format!("archive has more than one top-level entry: {}", raw.display())),
        }
        let mut dest = out.to_path_buf();
        for c in comps {
            match c {
                Component::Normal(c) => dest.push(c),
                _ => return Err(format!("unsafe path in archive: {}", raw.display())),
            }
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        } else if kind.is_file() {
            if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            let mut f = std::fs::File::create(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
            std::io::copy(&mut entry, &mut f).map_err(|e| format!("{}: {e}", dest.display()))?;
        } else if kind.is_symlink() {
            let target = entry.link_name().map_err(|e| e.to_string())?.ok_or("symlink without target")?.into_owned();
            let _ = std::fs::remove_file(&dest);
            std::os::unix::fs::symlink(&target, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        }
    }
    Ok(())
}

impl TextEncoder for GetText {
    fn emit(&mut self, _v: Value, _p: &mut Printer<'_>) -> Result<(), CmdError> {
        Ok(())
    }

    fn bytes(&mut self, chunk: Bytes, p: &mut Printer<'_>) -> Result<bool, CmdError> {
        if self.pipe.is_none() {
            self.start(p)?;
        }
        if let Some(bar) = &self.bar {
            bar.inc(chunk.len() as u64);
        }
        if let Some(tx) = &self.pipe
            && tx.send(Some(chunk)).is_err()
        {
            // The writer stopped: its error comes out in finish.
            self.pipe = None;
        }
        Ok(true)
    }

    fn finish(&mut self, p: &mut Printer<'_>) -> Result<(), CmdError> {
        if self.worker.is_none() {
            // Nothing arrived (an empty archive is impossible): still create the output.
            self.start(p)?;
        }
        if let Some(tx) = self.pipe.take() {
            let _ = tx.send(None);
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        match self.worker.take().map(std::thread::JoinHandle::join) {
            Some(Ok(Ok(()))) | None => Ok(()),
            Some(Ok(Err(e))) => Err(CmdError::new(e)),
            Some(Err(_)) => Err(CmdError::new("writing the output failed")),
        }
    }
}
