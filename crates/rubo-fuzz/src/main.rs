//! `rubo-fuzz`: runs rubo's fuzz targets with a built-in mutation engine.
//!
//! ```text
//! rubo-fuzz [--target NAME|all] [--iterations N | --seconds S] [--seed N]
//!           [--jobs N] [--max-len BYTES] [--timeout S] [--mem-limit MIB]
//!           [--slow-ms MS] [--crashes DIR] [--corpus DIR]
//! rubo-fuzz --target NAME --replay FILE
//! rubo-fuzz --list
//! ```
//!
//! Each target runs in a worker process (this binary with `--worker`): its
//! seeds first, then mutated inputs. A panic is minimized and written to
//! `<crashes>/<target>-<hash>`; a run longer than `--timeout` is written as
//! `<target>-timeout-<hash>`; a worker killed by an abort (an allocation
//! beyond `--mem-limit`, a stack overflow) is re-run from its last progress
//! mark with every input captured, and the input that kills it is written as
//! `<target>-abort-<hash>`. Any of these makes the exit status non-zero.
//! `--iterations` is per target, divided by the target's cost; `--seconds`
//! is the whole run's budget, shared by the targets and `--jobs` workers.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rubo_fuzz::engine::{Mutator, fnv1a, minimize, quiet_panics, run_one};
use rubo_fuzz::{TARGETS, Target, cost, seeds};

/// Inputs between two progress marks of a worker: an abort is replayed
/// from the last mark, so at most this many inputs run twice.
const PROGRESS_EVERY: u64 = 256;
const EXIT_CRASH: i32 = 1;
const EXIT_USAGE: i32 = 2;
const EXIT_TIMEOUT: i32 = 3;

#[derive(Debug, Clone)]
struct Opts {
    target: String,
    iterations: Option<u64>,
    seconds: Option<f64>,
    seed: u64,
    jobs: usize,
    max_len: usize,
    timeout: f64,
    mem_limit_mib: u64,
    slow_ms: u64,
    crashes: PathBuf,
    corpus: PathBuf,
    replay: Option<PathBuf>,
    list: bool,
    worker: bool,
    start: u64,
    capture: Option<PathBuf>,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            target: "all".into(),
            iterations: None,
            seconds: None,
            seed: 1,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_len: 64 << 10,
            timeout: 10.0,
            mem_limit_mib: 2048,
            slow_ms: 2000,
            crashes: Path::new(env!("CARGO_MANIFEST_DIR")).join("crashes"),
            corpus: seeds::corpus_dir(),
            replay: None,
            list: false,
            worker: false,
            start: 0,
            capture: None,
        }
    }
}

fn parse_args(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        let num = |name: &str, v: String| v.parse::<u64>().map_err(|_| format!("{name}: not a number: {v}"));
        let float = |name: &str, v: String| {
            v.parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0).ok_or_else(|| format!("{name}: bad value {v}"))
        };
        match a.as_str() {
            "--target" => o.target = val(a)?,
            "--iterations" => o.iterations = Some(num(a, val(a)?)?),
            "--seconds" => o.seconds = Some(float(a, val(a)?)?),
            "--seed" => o.seed = num(a, val(a)?)?,
            "--jobs" => o.jobs = (num(a, val(a)?)? as usize).max(1),
            "--max-len" => o.max_len = num(a, val(a)?)? as usize,
            "--timeout" => o.timeout = float(a, val(a)?)?,
            "--mem-limit" => o.mem_limit_mib = num(a, val(a)?)?,
            "--slow-ms" => o.slow_ms = num(a, val(a)?)?,
            "--crashes" => o.crashes = PathBuf::from(val(a)?),
            "--corpus" => o.corpus = PathBuf::from(val(a)?),
            "--replay" => o.replay = Some(PathBuf::from(val(a)?)),
            "--list" => o.list = true,
            "--worker" => o.worker = true,
            "--start" => o.start = num(a, val(a)?)?,
            "--capture" => o.capture = Some(PathBuf::from(val(a)?)),
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    if o.iterations.is_some() && o.seconds.is_some() {
        return Err("--iterations and --seconds exclude each other".into());
    }
    Ok(o)
}

fn usage() -> String {
    "usage: rubo-fuzz [--target NAME|all] [--iterations N | --seconds S] [--seed N] [--jobs N]\n\
     \x20                [--max-len BYTES] [--timeout S] [--mem-limit MIB] [--slow-ms MS]\n\
     \x20                [--crashes DIR] [--corpus DIR]\n\
     \x20      rubo-fuzz --target NAME --replay FILE\n\
     \x20      rubo-fuzz --list"
        .into()
}

fn find(name: &str) -> Result<Target, String> {
    rubo_fuzz::target(name).ok_or_else(|| format!("no target {name:?} (--list shows them)"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_USAGE as u8);
        }
    };
    let code = if opts.list {
        for (name, _) in TARGETS {
            println!("{name}");
        }
        0
    } else if let Some(file) = &opts.replay {
        replay(&opts.target, file)
    } else if opts.worker {
        worker(&opts)
    } else {
        supervise(&opts)
    };
    ExitCode::from(code as u8)
}

/// Runs one saved input without catching panics, so the backtrace shows.
fn replay(target: &str, file: &Path) -> i32 {
    let (f, data) = match (find(target), std::fs::read(file)) {
        (Ok(f), Ok(d)) => (f, d),
        (Err(e), _) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
        (_, Err(e)) => {
            eprintln!("{}: {e}", file.display());
            return EXIT_USAGE;
        }
    };
    let t = Instant::now();
    f(&data);
    println!("{target}: no panic on {} ({} bytes, {:.3} s)", file.display(), data.len(), t.elapsed().as_secs_f64());
    0
}

fn hex_preview(data: &[u8]) -> String {
    const MAX: usize = 256;
    let mut s: String = data.iter().take(MAX).map(|b| format!("{b:02x}")).collect();
    if data.len() > MAX {
        s.push_str("...");
    }
    s
}

fn save(dir: &Path, name: String, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Err(e) = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, data)) {
        eprintln!("cannot write {}: {e}", path.display());
    }
    path
}

/// The watchdog's view of the input being run.
struct Running {
    input: Mutex<Vec<u8>>,
    /// Milliseconds since the worker started at which this input started.
    since_ms: AtomicU64,
    active: AtomicBool,
}

fn worker(o: &Opts) -> i32 {
    let name = o.target.as_str();
    let f = match find(name) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    if o.mem_limit_mib > 0 {
        // A lying length that makes a parser allocate beyond this aborts the
        // worker; the supervisor then finds the input by replaying.
        let bytes = o.mem_limit_mib.saturating_mul(1 << 20);
        let lim = rustix::process::Rlimit { current: Some(bytes), maximum: None };
        if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::As, lim) {
            eprintln!("{name}: cannot limit memory: {e}");
        }
    }
    quiet_panics();
    let epoch = Instant::now();
    let running = Arc::new(Running {
        input: Mutex::new(Vec::new()),
        since_ms: AtomicU64::new(0),
        active: AtomicBool::new(false),
    });
    {
        let running = running.clone();
        let (timeout, dir, target) = (o.timeout, o.crashes.clone(), name.to_string());
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(100));
                let started = running.since_ms.load(Ordering::Acquire);
                let now = epoch.elapsed().as_millis() as u64;
                if timeout > 0.0
                    && running.active.load(Ordering::Acquire)
                    && now.saturating_sub(started) as f64 > timeout * 1000.0
                {
                    let input = running.input.lock().map(|i| i.clone()).unwrap_or_default();
                    let path = save(&dir, format!("{target}-timeout-{:016x}", fnv1a(&input)), &input);
                    eprintln!(
                        "TIMEOUT in {target}: one input ran over {timeout} s\n  input: {} ({} bytes)\n  hex: {}",
                        path.display(),
                        input.len(),
                        hex_preview(&input)
                    );
                    std::process::exit(EXIT_TIMEOUT);
                }
            }
        });
    }
    let mut capture = o.capture.as_ref().and_then(|p| std::fs::File::create(p).ok());
    let mut run = |input: &[u8]| -> Result<Duration, String> {
        if let Some(file) = capture.as_mut() {
            // Written before running: an abort leaves this input behind.
            use std::io::{Seek, SeekFrom};
            let _ = file.set_len(0).and_then(|()| file.seek(SeekFrom::Start(0))).and_then(|_| file.write_all(input));
        }
        if let Ok(mut slot) = running.input.lock() {
            slot.clear();
            slot.extend_from_slice(input);
        }
        running.since_ms.store(epoch.elapsed().as_millis() as u64, Ordering::Release);
        running.active.store(true, Ordering::Release);
        let t = Instant::now();
        let r = run_one(f, input);
        running.active.store(false, Ordering::Release);
        r.map(|()| t.elapsed())
    };
    let crash = |input: &[u8], msg: &str, what: &str| -> i32 {
        let min = minimize(f, input, 4000);
        let path = save(&o.crashes, format!("{name}-{:016x}", fnv1a(&min)), &min);
        eprintln!(
            "CRASH in {name} ({what}): {msg}\n  input: {} ({} bytes, minimized from {})\n  hex: {}\n  replay: rubo-fuzz --target {name} --replay {}",
            path.display(),
            min.len(),
            input.len(),
            hex_preview(&min),
            path.display()
        );
        EXIT_CRASH
    };
    let slow = |input: &[u8], took: Duration| {
        if o.slow_ms > 0 && took.as_millis() as u64 >= o.slow_ms {
            let path = save(&o.crashes, format!("slow-{name}-{:016x}", fnv1a(input)), input);
            eprintln!("SLOW in {name}: {:.2} s on {} ({} bytes)", took.as_secs_f64(), path.display(), input.len());
        }
    };
    let corpus = {
        let mut c = seeds::from_dir(&o.corpus, name);
        c.extend(seeds::generated(name));
        c
    };
    let mut total = 0u64;
    if o.start == 0 && o.capture.is_none() {
        for (i, s) in corpus.iter().enumerate() {
            match run(s) {
                Ok(t) => slow(s, t),
                Err(msg) => return crash(s, &msg, &format!("seed {i}")),
            }
            total += 1;
        }
    }
    let m = Mutator { corpus: &corpus, dict: seeds::dictionary(name), max_len: o.max_len };
    let deadline = o.seconds.map(|s| epoch + Duration::from_secs_f64(s));
    let end = match (o.iterations, deadline) {
        (Some(n), _) => o.start.saturating_add(n),
        (None, Some(_)) => u64::MAX,
        (None, None) => o.start.saturating_add(10_000),
    };
    let mut i = o.start;
    let mut out = std::io::stdout().lock();
    while i < end {
        if i.is_multiple_of(PROGRESS_EVERY) {
            let _ = writeln!(out, "progress {i}").and_then(|()| out.flush());
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        let input = m.input(o.seed, name, i);
        match run(&input) {
            Ok(t) => slow(&input, t),
            Err(msg) => return crash(&input, &msg, &format!("input {i}, seed {}", o.seed)),
        }
        i += 1;
        total += 1;
    }
    let _ = writeln!(out, "done {total} {:.3}", epoch.elapsed().as_secs_f64()).and_then(|()| out.flush());
    0
}

/// What one worker run reported.
struct Outcome {
    name: String,
    status: Option<i32>,
    last_progress: u64,
    done: Option<(u64, f64)>,
}

fn spawn_worker(o: &Opts, name: &str, extra: &[String]) -> std::io::Result<Outcome> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("--worker").arg("--target").arg(name);
    for (flag, v) in [
        ("--seed", o.seed.to_string()),
        ("--max-len", o.max_len.to_string()),
        ("--timeout", o.timeout.to_string()),
        ("--mem-limit", o.mem_limit_mib.to_string()),
        ("--slow-ms", o.slow_ms.to_string()),
    ] {
        cmd.arg(flag).arg(v);
    }
    cmd.arg("--crashes").arg(&o.crashes).arg("--corpus").arg(&o.corpus).args(extra);
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
    let mut last_progress = 0;
    let mut done = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some("progress"), Some(i), _) => last_progress = i.parse().unwrap_or(last_progress),
                (Some("done"), Some(n), Some(t)) => done = Some((n.parse().unwrap_or(0), t.parse().unwrap_or(0.0))),
                _ => {}
            }
        }
    }
    let status = child.wait()?;
    Ok(Outcome { name: name.to_string(), status: status.code(), last_progress, done })
}

/// Runs a worker for `name` and turns its end into a line of report; false
/// if it found a problem.
fn run_target(o: &Opts, name: &str, per_target: &Budget) -> bool {
    let extra: Vec<String> = match per_target {
        Budget::Iterations(n) => vec!["--iterations".into(), (n / cost(name)).max(1).to_string()],
        Budget::Seconds(s) => vec!["--seconds".into(), s.to_string()],
    };
    let out = match spawn_worker(o, name, &extra) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("{name}: cannot start a worker: {e}");
            return false;
        }
    };
    match (out.status, out.done) {
        (Some(0), Some((n, secs))) => {
            println!("{:<22} ok   {n:>9} inputs in {secs:>7.2} s ({:.0}/s)", out.name, n as f64 / secs.max(1e-9));
            true
        }
        (Some(EXIT_CRASH), _) | (Some(EXIT_TIMEOUT), _) => {
            println!("{:<22} FAIL (see above)", out.name);
            false
        }
        (status, _) => {
            // Killed (abort, stack overflow, out of memory): replay the
            // inputs since the last mark, writing each before it runs.
            eprintln!(
                "{name}: worker died ({status:?}) after input {}; replaying to capture the input",
                out.last_progress
            );
            let cap = o.crashes.join(format!(".capture-{name}"));
            let _ = std::fs::create_dir_all(&o.crashes);
            let extra = vec![
                "--start".into(),
                out.last_progress.to_string(),
                "--iterations".into(),
                (PROGRESS_EVERY + 1).to_string(),
                "--capture".into(),
                cap.display().to_string(),
            ];
            match spawn_worker(o, name, &extra) {
                Ok(again) if again.status != Some(0) => {
                    let input = std::fs::read(&cap).unwrap_or_default();
                    let path = save(&o.crashes, format!("{name}-abort-{:016x}", fnv1a(&input)), &input);
                    eprintln!(
                        "ABORT in {name}: the worker dies on {} ({} bytes)\n  hex: {}",
                        path.display(),
                        input.len(),
                        hex_preview(&input)
                    );
                }
                _ => eprintln!("{name}: the worker died but the replay did not; a seed input may be the cause"),
            }
            let _ = std::fs::remove_file(&cap);
            println!("{name:<22} FAIL (worker died)");
            false
        }
    }
}

enum Budget {
    Iterations(u64),
    Seconds(f64),
}

fn supervise(o: &Opts) -> i32 {
    let names: Vec<String> = if o.target == "all" {
        TARGETS.iter().map(|(n, _)| (*n).to_string()).collect()
    } else {
        let mut v = Vec::new();
        for n in o.target.split(',') {
            if let Err(e) = find(n) {
                eprintln!("{e}");
                return EXIT_USAGE;
            }
            v.push(n.to_string());
        }
        v
    };
    let budget = match (o.iterations, o.seconds) {
        (Some(n), _) => Budget::Iterations(n),
        (None, Some(s)) => {
            // Whole-run budget shared by the targets, `jobs` at a time.
            let per: f64 = names.iter().map(|n| cost(n) as f64).sum();
            Budget::Seconds(s * o.jobs.min(names.len()) as f64 / per.max(1.0))
        }
        (None, None) => Budget::Iterations(10_000),
    };
    let started = Instant::now();
    let queue = Mutex::new(names.iter().cloned().collect::<VecDeque<String>>());
    let failed = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..o.jobs.min(names.len()) {
            s.spawn(|| {
                while let Some(name) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
                    let b = match &budget {
                        Budget::Iterations(n) => Budget::Iterations(*n),
                        Budget::Seconds(x) => Budget::Seconds(x * cost(&name) as f64),
                    };
                    if !run_target(o, &name, &b) {
                        failed.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let failed = failed.load(Ordering::Relaxed);
    println!(
        "{} targets in {:.1} s: {}",
        names.len(),
        started.elapsed().as_secs_f64(),
        if failed { format!("FAILURES, inputs in {}", o.crashes.display()) } else { "no failures".into() }
    );
    if failed { EXIT_CRASH } else { 0 }
}
