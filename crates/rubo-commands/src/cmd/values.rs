//! `routing get|put`: value records in the DHT (Kubo's `core/commands/routing.go`). Keys are
//! `/ipns/<name>` and `/pk/<peer id>`; values are the raw record bytes, checked as every DHT
//! node checks them (an IPNS record must be signed by the name's key and not expired).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::cmd::swarm::spec;
use crate::def::{Arg, Command};
use crate::output::{FnText, Output, Printer, typed};
use crate::registry::{Ctx, Spec, bool_opt};
use crate::{CmdError, Request};

/// Kubo's `routing.QueryEventType` for a stored value.
const VALUE: u8 = 5;
/// Largest value file read (IPNS records are at most 10 KiB; `/pk/` keys are small).
const MAX_VALUE: usize = 64 << 10;

#[derive(Debug, Serialize, Deserialize)]
struct ValueEvent {
    #[serde(rename = "Extra")]
    extra: String,
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Responses")]
    responses: Option<Vec<Value>>,
    #[serde(rename = "Type")]
    kind: u8,
}

type Value = serde_json::Value;

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        spec(
            "routing get",
            || {
                Command::new("get")
                    .about("Given a key, query the routing system for its best value.")
                    .long_about(
                        "Outputs the best value for the given key.\n\n\
                         There may be several different values for a given key stored in the\n\
                         routing system; in this context 'best' means the record that is typically\n\
                         most desirable. For IPNS records, that is the one with the highest\n\
                         sequence number (then the latest validity). Only /ipns/ and /pk/ keys\n\
                         are routed. The value is written as received, in binary.",
                    )
                    .arg(Arg::new("key").help("The key to find a value for.").required(true))
            },
            |ctx, req| Box::pin(get(ctx, req)),
            |_| Box::new(FnText(|_, _: &mut Printer<'_>| Ok(()))),
        ),
        spec(
            "routing put",
            || {
                Command::new("put")
                    .about("Write a key/value pair to the routing system.")
                    .long_about(
                        "Given a key of the form /foo/bar and a value file, stores the value under\n\
                         the key in the routing system (here and with the closest DHT peers).\n\
                         The value is checked as every DHT node checks it: an IPNS record must be\n\
                         signed by the key of its name, unexpired, and not older than the one\n\
                         this node holds.",
                    )
                    .arg(Arg::new("key").help("The key to store the value at.").required(true))
                    .arg(Arg::new("value-file").help("A path to a file containing the value to store.").required(true).file())
                    .arg(bool_opt("allow-offline", "When offline, save the IPNS record to the local datastore without broadcasting to the network (instead of failing)."))
            },
            |ctx, req| Box::pin(put(ctx, req)),
            |_| Box::new(FnText(put_text)),
        ),
    ]
}

async fn get(ctx: Ctx, req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let key = req.arg(0, "key")?;
    let value = node.routing_get(key).await?;
    Ok(Output::bytes("application/octet-stream", Bytes::from(value)))
}

async fn put(ctx: Ctx, mut req: Request) -> Result<Output, CmdError> {
    let node = ctx.node()?.clone();
    let key = req.arg(0, "key")?.to_string();
    let mut inputs = req.take_inputs("value-file")?;
    let file = inputs.next_file().await.ok_or_else(|| CmdError::client("argument \"value-file\" is required"))??;
    let value = file.read_up_to(Some(MAX_VALUE)).await?;
    if value.len() > MAX_VALUE {
        return Err(CmdError::client(format!("value too large (over {MAX_VALUE} bytes)")));
    }
    let id = match node.net() {
        Ok(n) => {
            let id = n.local_peer_id().to_string();
            node.routing_put(&key, value).await?;
            id
        }
        Err(_) if req.opts.flag("allow-offline")? => {
            node.routing_put_offline(&key, value)?;
            node.repo().identity().peer_id().to_string()
        }
        Err(e) => return Err(e.into()),
    };
    Output::value(ValueEvent { extra: String::new(), id, responses: None, kind: VALUE })
}

fn put_text(v: Value, p: &mut Printer<'_>) -> Result<(), CmdError> {
    let ev: ValueEvent = typed(v)?;
    if ev.kind != VALUE {
        return Ok(());
    }
    p.out(&format!("{}\n", ev.id))
}
