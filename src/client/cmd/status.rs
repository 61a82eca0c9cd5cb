//! `rpm-ostree status`: the deployments, the transaction, the update policy and
//! the cached update, as text (§9.3) or JSON (§9.4).

use anyhow::{Context as _, Result, anyhow};
use glib::Variant;
use serde_json::{Map, Value};

use super::{Context, read_driver, unit_state};
use crate::client::Exit;
use crate::client::cli::StatusArgs;
use crate::client::connection::{self, Client};
use crate::client::json::to_json;
use crate::client::pkgdiff;
use crate::client::status_text::{self, Dict, StatusInput};
use crate::pkgdiff::PkgDiff;

fn dict_of(v: Option<&Variant>) -> Dict {
    v.and_then(|v| v.get::<Dict>()).unwrap_or_default()
}

/// Title and initiator of the active transaction, read from its peer socket
/// (the daemon may be between two states: try a few times).
fn transaction_info(address: &str) -> Result<(String, String)> {
    let peer = connection::connect_transaction(address).map_err(|e| {
        anyhow!(
            "Connecting to the active transaction: {}",
            connection::clean_error(&e)
        )
    })?;
    let info = (
        connection::transaction_property(&peer, "Title"),
        connection::transaction_property(&peer, "InitiatingClientDescription"),
    );
    let _ = peer.close_sync(gio::Cancellable::NONE);
    Ok(info)
}

fn timer_state(client: &Client) -> String {
    match unit_state(&client.bus, "rpm-ostreed-automatic.timer").as_deref() {
        None => "rpm-ostreed-automatic.timer: unknown state".into(),
        Some("active") => "rpm-ostreed-automatic.timer: no runs since boot".into(),
        Some(_) => "rpm-ostreed-automatic.timer: inactive".into(),
    }
}

fn json_output(
    deployments: &[Dict],
    booted_only: bool,
    transaction: &Variant,
    cached: &Dict,
) -> Value {
    let deps: Vec<Value> = deployments
        .iter()
        .filter(|d| {
            !booted_only
                || d.get("booted")
                    .and_then(|v| v.get::<bool>())
                    .unwrap_or(false)
        })
        .map(|d| to_json(&glib::prelude::ToVariant::to_variant(d)))
        .collect();
    let txn = match transaction.get::<(String, String, String)>() {
        Some((m, s, p)) if !m.is_empty() => Value::Array(vec![m.into(), s.into(), p.into()]),
        _ => Value::Null,
    };
    let cached = if cached.is_empty() {
        Value::Null
    } else {
        to_json(&glib::prelude::ToVariant::to_variant(cached))
    };
    let driver = match read_driver() {
        Some((name, unit)) => {
            let mut m = Map::new();
            m.insert("driver-name".into(), name.into());
            m.insert("driver-sd-unit".into(), unit.into());
            Value::Object(m)
        }
        None => Value::Null,
    };
    let mut top = Map::new();
    top.insert("deployments".into(), Value::Array(deps));
    top.insert("transaction".into(), txn);
    top.insert("cached-update".into(), cached);
    top.insert("update-driver".into(), driver);
    Value::Object(top)
}

/// The package changes of the pending deployment (the first one, not booted,
/// of the booted stateroot): the cached update's when it was computed for
/// it, else read from the repository.
fn pending_package_diff(sys: &Dict, deployments: &[Dict], cached: &Dict) -> Option<PkgDiff> {
    let str_of = |d: &Dict, k: &str| d.get(k).and_then(|v| v.str().map(String::from));
    let first = deployments.first()?;
    let booted = deployments
        .iter()
        .find(|d| d.get("booted").and_then(|v| v.get::<bool>()) == Some(true))?;
    if str_of(first, "id") == str_of(booted, "id")
        || str_of(first, "osname") != str_of(booted, "osname")
    {
        return None;
    }
    let sysroot = str_of(sys, "Path").unwrap_or_else(|| "/".into());
    match pkgdiff::booted_to(&sysroot, deployments, first, cached)? {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("warning: Reading the package diff: {e:#}");
            None
        }
    }
}

pub(crate) fn run(args: StatusArgs, _ctx: &Context) -> Result<Exit> {
    let client = connection::connect(&args.daemon, None)?;
    let (sys, os) = client.initial.clone();
    let deployments: Vec<Dict> = sys
        .get("Deployments")
        .and_then(|v| v.get::<Vec<Dict>>())
        .unwrap_or_default();
    let cached = dict_of(os.get("CachedUpdate"));
    let transaction = sys
        .get("ActiveTransaction")
        .cloned()
        .unwrap_or_else(|| glib::prelude::ToVariant::to_variant(&("", "", "")));
    let pending = {
        let id = |k: &str| {
            dict_of(os.get(k))
                .get("id")
                .and_then(|v| v.str().map(String::from))
        };
        let (default, booted) = (id("DefaultDeployment"), id("BootedDeployment"));
        default.is_some() && default != booted
    };
    let exit = if args.pending_exit_77 && pending {
        Exit::Unchanged
    } else {
        Exit::Ok
    };
    if args.json || args.jsonpath.is_some() {
        let value = json_output(&deployments, args.booted, &transaction, &cached);
        let out = match &args.jsonpath {
            Some(expr) => {
                let path = serde_json_path::JsonPath::parse(expr)
                    .map_err(|e| anyhow!("Invalid JSONPath expression '{expr}': {e}"))?;
                let found: Vec<Value> = path.query(&value).all().into_iter().cloned().collect();
                Value::Array(found)
            }
            None => value,
        };
        let mut text = serde_json::to_string_pretty(&out).context("Serializing JSON")?;
        text.push('\n');
        crate::stdout::write(&text);
        return Ok(exit);
    }
    let address = sys
        .get("ActiveTransactionPath")
        .and_then(|v| v.str().map(String::from))
        .unwrap_or_default();
    let transaction = if address.is_empty() {
        None
    } else {
        Some(transaction_info(&address)?)
    };
    let policy = sys
        .get("AutomaticUpdatePolicy")
        .and_then(|v| v.str().map(String::from))
        .unwrap_or_else(|| "none".into());
    let driver = read_driver().map(|(name, unit)| {
        let state = unit_state(&client.bus, &unit).unwrap_or_else(|| "unknown".into());
        (name, unit, state)
    });
    let timer = if policy != "none" && driver.is_none() {
        timer_state(&client)
    } else {
        String::new()
    };
    use std::io::IsTerminal;
    let pending_diff = if args.booted {
        None
    } else {
        pending_package_diff(&sys, &deployments, &cached)
    };
    let input = StatusInput {
        pending_diff,
        deployments,
        policy,
        timer_state: timer,
        driver,
        busy: !address.is_empty(),
        transaction,
        cached_update: (!cached.is_empty()).then_some(cached),
        default_checksum: dict_of(os.get("DefaultDeployment"))
            .get("checksum")
            .and_then(|v| v.str().map(String::from)),
        verbose: args.verbose,
        booted_only: args.booted,
        color: std::io::stdout().is_terminal(),
    };
    crate::stdout::write(&status_text::render(&input));
    Ok(exit)
}
