//! `rubo get`: a file or tree out of the node, as a tar stream (gzip with
//! `-C`), which the CLI unpacks unless asked for the archive, as Kubo does.

use std::io::Read;
use std::path::PathBuf;

use crate::def::{Arg, Command};
use bytes::Bytes;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rubo_node::{GetOptions, IpfsPath};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::output::{Output, Printer, TextEncoder};
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

async fn get(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let compression = compression(&req)?;
    let archive = req.opts.flag("archive")?;
    let path = IpfsPath::parse(req.arg(0, "ipfs-path")?)?;
    let opts = GetOptions { compression, archive };
    let mut rx = node.unixfs().get(&path, opts).await?;
    let (tx, out) = mpsc::channel(8);
    tokio::spawn(async move {
        while let Some(chunk) = rx.recv().await {
            let stop = chunk.is_err();
            if tx.send(chunk.map_err(CmdError::from)).await.is_err() || stop {
                return;
            }
        }
    });
    Ok(Output::Bytes { content_type: opts.content_type(), stream: out })
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
                    // Written beside its name and renamed over it: a symlink
                    // already at that name is replaced, never written through.
                    let at = |e: std::io::Error| format!("{}: {e}", path.display());
                    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
                    let mut f = tempfile::NamedTempFile::new_in(dir).map_err(at)?;
                    let mut r = reader;
                    std::io::copy(&mut r, f.as_file_mut()).map_err(|e| e.to_string())?;
                    f.as_file().sync_all().map_err(at)?;
                    // Temp files are private; an archive is an ordinary file.
                    use std::os::unix::fs::PermissionsExt;
                    f.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(at)?;
                    f.persist(&path).map_err(|e| at(e.error))?;
                    Ok(())
                })
            }
            None => {
                p.out(&format!("Saving file(s) to {}\n", self.out_path.display()))?;
                let out = self.out_path.clone();
                std::thread::spawn(move || {
                    crate::extract::extract(reader, &out, &mut |_| {}).map_err(|e| e.to_string())
                })
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
