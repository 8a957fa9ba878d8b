//! Log levels at run time (`rubo log level`, `log ls`): the process that owns
//! the tracing subscriber (the daemon, or the CLI for a local run) registers a
//! function that installs a new filter; commands call it. Logging is
//! process-wide by nature, so this is the one process-global hook.

use std::sync::OnceLock;

use crate::CmdError;

type Setter = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

static SETTER: OnceLock<Setter> = OnceLock::new();

/// The subsystems (tracing targets) rubo logs under.
pub const SUBSYSTEMS: &[&str] = &[
    "rubo",
    "rubo_cli",
    "rubo_commands",
    "rubo_dag",
    "rubo_http",
    "rubo_mfs",
    "rubo_net",
    "rubo_node",
    "rubo_repo",
    "rubo_types",
    "rubo_unixfs",
    "libp2p",
];

/// Installs the function that applies a filter directive (`EnvFilter` syntax).
pub fn register(f: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) {
    let _ = SETTER.set(Box::new(f));
}

pub fn subsystems() -> Vec<String> {
    SUBSYSTEMS.iter().map(|s| s.to_string()).collect()
}

/// Sets `subsystem` (`all` or `*` for every one) to `level`; returns the name
/// as Kubo echoes it.
pub fn set_level(subsystem: &str, level: &str) -> Result<String, CmdError> {
    let level = level.to_ascii_lowercase();
    let level = match level.as_str() {
        "debug" | "info" | "warn" | "error" | "trace" => level,
        // Kubo's zap levels above error all mean "errors only" here.
        "dpanic" | "panic" | "fatal" => "error".to_string(),
        other => return Err(CmdError::client(format!("unrecognized level: {other:?}"))),
    };
    let (directive, shown) = match subsystem {
        "all" | "*" => (level.clone(), "*".to_string()),
        s if SUBSYSTEMS.contains(&s) || s.starts_with("libp2p") => (format!("warn,{s}={level}"), s.to_string()),
        s => return Err(CmdError::client(format!("unknown subsystem {s:?} (see 'rubo log ls')"))),
    };
    let setter = SETTER.get().ok_or_else(|| CmdError::new("log levels cannot be changed in this process"))?;
    setter(&directive).map_err(CmdError::new)?;
    Ok(shown)
}
