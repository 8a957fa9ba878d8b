//! `routing findprovs`, with Kubo's query-event JSON and text
//! (`core/commands/routing.go`). Answers come from the node's routers: today
//! the delegated ones (`Routing.DelegatedRouters`); the DHT comes next.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::def::{Arg, Command};
use crate::output::{FnText, Output, Printer, STREAM_BUFFER, typed};
use crate::registry::{ArgKind, Ctx, Group, RepoUse, Spec, bool_opt, str_opt};
use crate::{CmdError, Request};

/// Kubo's `routing.QueryEventType` for a provider.
const PROVIDER: u8 = 4;

pub(crate) fn groups() -> Vec<Group> {
    vec![Group { path: "routing", about: "Issue routing commands.", long_about: "" }]
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![Spec {
        path: "routing findprovs",
        repo: RepoUse::Read,
        repo_for: None,
        args: ArgKind::Strings,
        local_only: false,
        def: || {
            Command::new("findprovs")
                .about("Find peers that can provide a specific value, given a key.")
                .long_about("Outputs a list of newline-delimited provider Peer IDs.")
                .arg(Arg::new("key").help("The key to find providers for.").required(true))
                .arg(bool_opt("verbose", "Print extra information.").short('v'))
                .arg(str_opt("num-providers", "The number of providers to find. Default: 20.").short('n'))
        },
        run: |ctx, req| Box::pin(findprovs(ctx, req)),
        text: |_| Box::new(FnText(findprovs_text)),
    }]
}

#[derive(Debug, Serialize, Deserialize)]
struct Response {
    #[serde(rename = "Addrs")]
    addrs: Vec<String>,
    #[serde(rename = "ID")]
    id: String,
}

/// Kubo's `routing.QueryEvent`.
#[derive(Debug, Serialize, Deserialize)]
struct QueryEvent {
    #[serde(rename = "Extra")]
    extra: String,
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Responses")]
    responses: Vec<Response>,
    #[serde(rename = "Type")]
    kind: u8,
}

async fn findprovs(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let key = req.arg(0, "key")?;
    let cid = rubo_types::parse_cid(key).map_err(|e| CmdError::client(e.to_string()))?;
    let n = match req.opts.int("num-providers")?.unwrap_or(20) {
        n if n < 1 => return Err(CmdError::client("number of providers must be greater than 0")),
        n => n as usize,
    };
    let found = node.find_providers(&cid, n).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        for p in found {
            let ev = QueryEvent {
                extra: String::new(),
                id: String::new(),
                responses: vec![Response {
                    addrs: p.addrs.iter().map(ToString::to_string).collect(),
                    id: p.id.to_string(),
                }],
                kind: PROVIDER,
            };
            let v = serde_json::to_value(ev).map_err(|e| CmdError::new(e.to_string()));
            if tx.send(v).await.is_err() {
                return;
            }
        }
    });
    Ok(Output::Stream(rx))
}

fn findprovs_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let ev: QueryEvent = typed(v)?;
    if ev.kind != PROVIDER {
        return Ok(());
    }
    let mut o = String::new();
    for r in ev.responses {
        o += &r.id;
        o.push('\n');
    }
    p.out(&o)
}
