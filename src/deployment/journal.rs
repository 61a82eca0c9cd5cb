//! The journal record of a new deployment, with upstream's message id and
//! fields (what `journalctl MESSAGE_ID=...` tools and tests look for).

use super::Ctx;
use super::status::commit_info;

/// Who asked for a deployment.
pub(crate) struct Initiator<'a> {
    pub command_line: Option<&'a str>,
    pub agent: Option<&'a str>,
    pub agent_unit: Option<&'a str>,
}

/// Logs the new deployment `new` of commit `csum`, following `refspec`.
pub(crate) fn new_deployment(
    ctx: &Ctx,
    new: &ostree::Deployment,
    csum: &str,
    refspec: &str,
    who: &Initiator,
) {
    use std::os::unix::fs::MetadataExt;
    let rel = ctx.sysroot.deployment_dirpath(new).to_string();
    let path = ctx.sysroot_path.join(&rel);
    let meta = std::fs::metadata(&path).ok();
    let version = commit_info(&ctx.sysroot.repo(), csum)
        .and_then(|i| i.version)
        .unwrap_or_default();
    let now = glib::DateTime::now_utc()
        .ok()
        .and_then(|d| d.format("%Y-%m-%dT%H:%M:%SZ").ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    glib::log_structured!(
        "rpm-ostreed",
        glib::LogLevel::Message,
        {
            "MESSAGE_ID" => "9bddbda177cd44d891b1b561a8a0ce9e";
            "MESSAGE" => "Created new deployment /{}", rel;
            "DEPLOYMENT_PATH" => "{}", path.display();
            "DEPLOYMENT_TIMESTAMP" => "{}", now;
            "DEPLOYMENT_DEVICE" => "{}", meta.as_ref().map(|m| m.dev()).unwrap_or(0);
            "DEPLOYMENT_INODE" => "{}", meta.as_ref().map(|m| m.ino()).unwrap_or(0);
            "DEPLOYMENT_CHECKSUM" => "{}", csum;
            "DEPLOYMENT_REFSPEC" => "{}", refspec;
            "DEPLOYMENT_VERSION" => "{}", version;
            "COMMAND_LINE" => "{}", who.command_line.unwrap_or_default();
            "AGENT" => "{}", who.agent.unwrap_or_default();
            "AGENT_SD_UNIT" => "{}", who.agent_unit.unwrap_or_default();
        }
    );
}
