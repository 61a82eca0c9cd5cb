//! `rpm-ostreed-container`: rpm-ostreed's container-image helper, over the
//! library API of the registry's unmodified `ostree-ext` 0.15.3. A program
//! (and cargo workspace) of its own because ostree-ext 0.15.3 is built on
//! ostree-rs 0.19 / glib-rs 0.18 while the daemon uses 0.20: only this
//! process links the older bindings and tokio. Registry I/O happens in the
//! skopeo child ostree-ext starts (`experimental-image-proxy`).
//!
//! # Verbs
//!
//! ```text
//! rpm-ostreed-container encapsulate --repo R [--label K=V]... [--max-layers N] REV IMGREF
//! rpm-ostreed-container import --repo R [--insecure-skip-tls-verification] OSTREE-IMGREF
//! rpm-ostreed-container check  --repo R [--insecure-skip-tls-verification] OSTREE-IMGREF
//! rpm-ostreed-container prune  --repo R [--keep IMGREF]...
//! ```
//!
//! * `encapsulate`: commit REV (a ref or checksum) of repository R as an image
//!   at IMGREF, a plain reference (`oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`,
//!   `docker://HOST/NAME:TAG`, ...). The commit's `version` becomes the
//!   `org.opencontainers.image.version` label. What `rpm-ostree compose
//!   container-encapsulate` runs. With `components` (JSON request only: the
//!   packages and the paths they own) the files of each go into layers of
//!   their own, at most `max_layers` (ostree-ext's packing; files no package
//!   owns form one more component); without, one layer.
//! * `import`: pulls the image (`ostree-unverified-registry:`,
//!   `ostree-unverified-image:TRANSPORT:`, `ostree-image-signed:TRANSPORT:`,
//!   `ostree-remote-image:REMOTE:TRANSPORT:`, `ostree-remote-registry:`; see
//!   the signature policy below) into R:
//!   layer refs under `ostree/container/blob/`, then the merge commit and the
//!   image ref `ostree/container/image/...` in one ostree transaction, so a
//!   helper killed before the end leaves no image ref (only layer refs, which
//!   `prune` collects).
//!   `--insecure-skip-tls-verification` is for plain-HTTP test registries.
//! * `check`: fetches the manifest and config only; says whether R's stored
//!   image is current, with upstream's `manifest-diff` figures. Writes
//!   nothing (the daemon keeps the cached update).
//! * `prune`: removes every stored image not named by a `--keep` (an
//!   `ostree-*:` or plain reference), then the layer refs no image and no
//!   deployment of the repository's sysroot uses. Objects go with the
//!   caller's `ostree prune` afterwards.
//!
//! # Signature policy
//!
//! `ostree-image-signed:TRANSPORT:NAME` must pass /etc/containers/policy.json
//! (containers-policy.json(5)). ostree-ext 0.15.3 leaves that to skopeo's
//! image proxy, which on Debian 12 (skopeo 1.9.3) does not evaluate it, so
//! the helper does (src/policy.rs): before the importer starts it reads the
//! policy (a bad file is an error naming it) and picks the requirements of
//! the image's most specific scope (docker: `host[:port]/ns/repo:tag`, the
//! repository, each shorter namespace, the host, `*.domain`; oci: and
//! oci-archive: the resolved path and its parents; then the transport's
//! `""`, then `default`). After ostree-ext's `prepare` has fetched the
//! manifest, and before any layer, `import` and `check` require every one
//! of them to accept the manifest's digest: `insecureAcceptAnything`,
//! `reject`, and `signedBy` with `keyType: GPGKeys` (`keyPath`, `keyPaths`
//! or `keyData`) and any `signedIdentity` but `remapIdentity`. A signedBy
//! needs one signature from the registries.d lookaside (file:// only;
//! src/lookaside.rs) that gpg, in a throwaway home holding only the
//! requirement's keys, finds good (src/signature.rs), whose claim names
//! this manifest digest and an accepted identity. `sigstoreSigned`,
//! `remapIdentity`, other key types, http(s):// lookaside and anything
//! unknown are refused as not supported. A refusal imports nothing and
//! leaves the stored image as it was; the error says it as containers/image
//! does: `Importing IMGREF: Source image rejected: A signature was required,
//! but no signature exists` (or `Running image docker://… is rejected by
//! policy.`, `Signature for identity … is not accepted`, `Invalid GPG
//! signature: …`). ostree-ext still refuses a policy whose default is
//! `insecureAcceptAnything` by itself.
//!
//! A bare `VERB` reads its request as one JSON object on stdin instead, as
//! the daemon's `helper::Helper::spawn_program` sends it: `{"repo": R,
//! "imgref": I, "insecure_skip_tls_verification": false}` (import, check),
//! `{"repo", "rev", "imgref", "labels": {K: V}, "max_layers": N, "components":
//! [{"identifier", "name", "srcid", "change_time_offset", "change_frequency",
//! "paths"}]}` (encapsulate), `{"repo",
//! "keep": [...]}` (prune); optional keys may be left out.
//!
//! # Output
//!
//! The daemon's helper protocol (src/helper/protocol.rs of the main crate):
//! JSON lines on stdout, any number of `{"progress": P}`, then exactly one
//! `{"done": R}` (exit 0) or `{"error": "one line naming the image"}`
//! (exit 1; a bad command line exits 2). Everything else goes to stderr.
//!
//! * `encapsulate` done: `{"imgref": "oci:/d:v1", "manifest_digest": "sha256:…"}`
//! * `import` progress: `{"message": "Fetching layer sha256:… (3.0 MB)",
//!   "layers_fetched": 0, "layers_total": 1, "bytes_fetched": 0,
//!   "bytes_total": 3145728}` (totals count only the layers to fetch).
//! * `import` done: `{"imgref", "changed", "merge_commit", "base_commit",
//!   "manifest_digest", "version", "manifest_diff"}`. `changed` is false when
//!   the stored image was current; `manifest_diff` (against the image stored
//!   before, or null) has upstream's keys `total`, `total-size`, `n-removed`,
//!   `removed-size`, `n-added`, `added-size`.
//! * `check` done: `{"imgref", "stored", "current", "stored_digest",
//!   "stored_version", "manifest_digest", "version", "manifest_diff"}`.
//! * `prune` done: `{"removed": [...], "kept": [...], "layers_pruned": N}`.

mod args;
mod dockerref;
mod fetch;
mod lookaside;
mod output;
mod policy;
mod signature;
mod store;

use args::Request;
use output::{one_line, Out};
use std::process::ExitCode;

async fn run(req: &Request, out: &Out) -> anyhow::Result<()> {
    use anyhow::Context;
    match req {
        Request::Encapsulate(r) => out.done(store::encapsulate(r).await?),
        Request::Import(r) => out.done(
            fetch::import(r, out)
                .await
                .with_context(|| format!("Importing {}", r.imgref))?,
        ),
        Request::Check(r) => out.done(
            fetch::check(r)
                .await
                .with_context(|| format!("Checking {}", r.imgref))?,
        ),
        Request::Prune(r) => out.done(store::prune(r).context("Pruning images")?),
    }
    Ok(())
}

fn main() -> ExitCode {
    let out = match Out::take_stdout() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("rpm-ostreed-container: setting up its output: {e}");
            return ExitCode::FAILURE;
        }
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match argv.as_slice() {
        [verb] if verb != "--help" => {
            let mut input = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
                .map_err(anyhow::Error::from)
                .and_then(|_| args::parse_json(verb, &input))
        }
        _ => args::parse(&argv),
    };
    let req = match parsed {
        Ok(r) => r,
        Err(e) => {
            out.error(&format!("rpm-ostreed-container: {}", one_line(&e)));
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = match runtime {
        Ok(rt) => rt.block_on(run(&req, &out)),
        Err(e) => Err(anyhow::Error::from(e).context("Starting the runtime")),
    };
    // The daemon's log gets what each run cost (skopeo, a child, not counted).
    eprintln!(
        "rpm-ostreed-container: {} in {} ms, peak RSS {} KiB",
        req.verb(),
        started.elapsed().as_millis(),
        peak_rss_kib().unwrap_or(0)
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// This process's peak resident set (VmHWM), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
