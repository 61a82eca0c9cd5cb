//! `rpm-ostree refresh-md` (the `RefreshMd` transaction) and
//! `rpm-ostree search` (`Search`, printed in its match groups).

use anyhow::{Result, bail};
use glib::prelude::*;
use std::collections::{BTreeMap, HashSet};

use super::{Context, Opts, simple_transaction};
use crate::client::Exit;
use crate::client::cli::{RefreshMdArgs, SearchArgs};
use crate::client::connection;

pub(crate) fn refresh(a: RefreshMdArgs, ctx: &Context) -> Result<Exit> {
    let client = connection::connect(&a.daemon, Some(&a.os))?;
    // Upstream always sends `force`.
    let opts = Opts::default().set("force", a.force);
    simple_transaction(&client, ctx, "RefreshMd", &(opts,).to_variant())?;
    Ok(Exit::Ok)
}

/// The header of a match group.
fn group_title(key: &str) -> &str {
    match key {
        "match_group_a" => "Summary & Name",
        "match_group_b" => "Name",
        "match_group_c" => "Summary",
        other => other,
    }
}

/// What `search` prints for the entries of a `Search` reply.
pub(crate) fn render_search(entries: &[BTreeMap<String, glib::Variant>]) -> String {
    let field = |e: &BTreeMap<String, glib::Variant>, k: &str| {
        e.get(k)
            .and_then(|v| v.str().map(String::from))
            .unwrap_or_default()
    };
    let mut out = String::new();
    let mut seen = HashSet::new();
    for e in entries {
        let key = field(e, "key");
        if seen.insert(key.clone()) {
            out.push_str(&format!("\n===== {} Matched =====\n", group_title(&key)));
        }
        out.push_str(&format!("{} : {}\n", field(e, "name"), field(e, "summary")));
    }
    if entries.is_empty() {
        out.push_str("No matches found.\n");
    }
    out
}

pub(crate) fn search(a: SearchArgs) -> Result<Exit> {
    if a.terms.is_empty() {
        bail!("At least one PACKAGE must be specified");
    }
    let client = connection::connect(&a.daemon, Some(&a.os))?;
    let reply = client.os_call("Search", &(a.terms,).to_variant())?;
    let entries: Vec<BTreeMap<String, glib::Variant>> =
        reply.child_value(0).get().unwrap_or_default();
    crate::stdout::write(&render_search(&entries));
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, name: &str, summary: &str) -> BTreeMap<String, glib::Variant> {
        [("key", key), ("name", name), ("summary", summary)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_variant()))
            .collect()
    }

    #[test]
    fn groups_have_headers_once() {
        let e = [
            entry("match_group_b", "neofetch", "CLI system information tool"),
            entry("match_group_b", "neo", "x"),
            entry("match_group_c", "fastfetch", "Like neofetch"),
        ];
        assert_eq!(
            render_search(&e),
            "\n===== Name Matched =====\nneofetch : CLI system information tool\nneo : x\n\n===== Summary Matched =====\nfastfetch : Like neofetch\n"
        );
        assert_eq!(render_search(&[]), "No matches found.\n");
    }
}
