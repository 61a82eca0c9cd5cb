//! `ModifyYumRepo`'s change to a `.repo` file: only `enabled`, only `0` or
//! `1`; the file is rewritten atomically with every other byte as it was
//! (comments, other keys, continuation lines, other repositories), which
//! upstream's GKeyFile round trip does not keep.

use anyhow::{Context, Result, bail};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Checks `settings` as upstream does, in order: only the key `enabled`,
/// with the value `0` or `1`.
pub(crate) fn check_settings(settings: &[(String, String)]) -> Result<()> {
    for (key, value) in settings {
        if key != "enabled" {
            bail!("Changing '{key}' not allowed in yum .repo files");
        }
        if value != "0" && value != "1" {
            bail!("Only '0' and '1' are allowed for the '{key}' key");
        }
    }
    Ok(())
}

/// The name of the section a line opens, if it does.
fn section_of(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix('[')?
        .strip_suffix(']')
        .map(str::trim)
}

/// `text` with `key=value` set in section `[section]`: the first line of
/// that key in the section gets the new value (its spacing kept); a section
/// without it gets the line after its header.
pub(crate) fn set_key(text: &str, section: &str, key: &str, value: &str) -> Result<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some(start) = lines.iter().position(|l| section_of(l) == Some(section)) else {
        bail!("No section [{section}]");
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| section_of(l).is_some())
        .map_or(lines.len(), |i| start + 1 + i);
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let existing = (start + 1..end).find(|&i| {
        let l = lines[i];
        !l.starts_with([' ', '\t']) && l.split_once('=').is_some_and(|(k, _)| k.trim() == key)
    });
    match existing {
        Some(i) => {
            let (k, rest) = lines[i].split_once('=').unwrap_or((lines[i], ""));
            let lead: String = rest
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            let eol = if rest.ends_with('\n') { "\n" } else { "" };
            out[i] = format!("{k}={lead}{value}{eol}");
        }
        None => {
            if !out[start].ends_with('\n') {
                out[start].push('\n');
            }
            out.insert(start + 1, format!("{key}={value}\n"));
        }
    }
    Ok(out.concat())
}

/// Applies `settings` (checked) to section `[repo]` of the `.repo` file
/// `path`, replacing the file atomically (same mode).
pub(crate) fn apply(path: &Path, repo: &str, settings: &[(String, String)]) -> Result<()> {
    check_settings(settings)?;
    if settings.is_empty() {
        return Ok(());
    }
    let what = || format!("Rewriting {}", path.display());
    let mut text = std::fs::read_to_string(path).with_context(what)?;
    for (key, value) in settings {
        text = set_key(&text, repo, key, value).with_context(what)?;
    }
    let mode = std::fs::metadata(path)
        .with_context(what)?
        .permissions()
        .mode();
    crate::fsutil::write_atomic(path, text.as_bytes(), mode & 0o7777).with_context(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str =
        "# my repos\n[a]\nname=A\nbaseurl=http://x/\n  http://y/\nenabled = 1\n\n[b]\nname=B\n";

    #[test]
    fn the_value_changes_and_nothing_else() {
        let t = set_key(FILE, "a", "enabled", "0").unwrap();
        assert_eq!(t, FILE.replace("enabled = 1", "enabled = 0"));
        let t = set_key(FILE, "b", "enabled", "0").unwrap();
        assert_eq!(t, FILE.replace("[b]\n", "[b]\nenabled=0\n"));
        let no_newline = "[c]";
        assert_eq!(
            set_key(no_newline, "c", "enabled", "1").unwrap(),
            "[c]\nenabled=1\n"
        );
        assert!(set_key(FILE, "zz", "enabled", "1").is_err());
    }

    #[test]
    fn settings_are_checked_in_order() {
        let s = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert!(check_settings(&s("enabled", "1")).is_ok());
        assert_eq!(
            check_settings(&s("gpgcheck", "1")).unwrap_err().to_string(),
            "Changing 'gpgcheck' not allowed in yum .repo files"
        );
        assert_eq!(
            check_settings(&s("enabled", "yes"))
                .unwrap_err()
                .to_string(),
            "Only '0' and '1' are allowed for the 'enabled' key"
        );
    }

    #[test]
    fn the_file_is_replaced_with_its_mode() {
        let dir = std::env::temp_dir().join(format!("repofile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.repo");
        std::fs::write(&p, FILE).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        apply(&p, "a", &[("enabled".into(), "0".into())]).unwrap();
        assert!(std::fs::read_to_string(&p).unwrap().contains("enabled = 0"));
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
