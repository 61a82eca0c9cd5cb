//! rpm's base architecture of this system (what repository URLs call
//! `$basearch`) and the `${basearch}` substitution of URLs and refs.

use anyhow::{Result, bail};

/// The base architecture, as dnf names it, of the architecture this program
/// was built for (the userspace's, which is what packages are chosen for).
pub fn basearch() -> &'static str {
    basearch_of(std::env::consts::ARCH, cfg!(target_endian = "little"))
}

/// The dnf base architecture of Rust's architecture name `arch`.
fn basearch_of(arch: &'static str, little_endian: bool) -> &'static str {
    match arch {
        "x86" => "i386",
        "arm" => "armhfp",
        "powerpc" => "ppc",
        "powerpc64" if little_endian => "ppc64le",
        "powerpc64" => "ppc64",
        "sparc64" => "sparc",
        other => other,
    }
}

/// `src` with every `${NAME}` replaced by the value of `NAME` in `vars`. There
/// is no quoting: a `${` always starts a reference, and a reference to an
/// unknown name, or one without its `}`, is an error.
pub fn varsubst(src: &str, vars: &[(&str, &str)]) -> Result<String> {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            bail!("Unclosed variable");
        };
        let name = &after[..end];
        match vars.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => out.push_str(value),
            None => bail!("Unknown variable reference ${{{name}}}"),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `src` with `${basearch}` replaced by [`basearch`].
pub fn varsubst_basearch(src: &str) -> Result<String> {
    varsubst(src, &[("basearch", basearch())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dnf_names() {
        assert_eq!(basearch_of("x86_64", true), "x86_64");
        assert_eq!(basearch_of("x86", true), "i386");
        assert_eq!(basearch_of("aarch64", true), "aarch64");
        assert_eq!(basearch_of("arm", true), "armhfp");
        assert_eq!(basearch_of("powerpc64", true), "ppc64le");
        assert_eq!(basearch_of("powerpc64", false), "ppc64");
        assert_eq!(basearch_of("s390x", false), "s390x");
        assert!(!basearch().is_empty());
    }

    #[test]
    fn substitutions() {
        let vars = [("basearch", "ppc64le"), ("osvendor", "fedora")];
        let s = |src| varsubst(src, &vars);
        for same in ["", "foo bar", "}", "$} a$ }}", "$basearch"] {
            assert_eq!(s(same).unwrap(), same);
        }
        assert_eq!(
            s("ostree/${osvendor}/${basearch}/x/${basearch}").unwrap(),
            "ostree/fedora/ppc64le/x/ppc64le"
        );
        assert_eq!(s("${osvendor}${basearch}").unwrap(), "fedorappc64le");
        let err = |src| s(src).unwrap_err().to_string();
        assert_eq!(
            err("a/${releasever}/b"),
            "Unknown variable reference ${releasever}"
        );
        assert_eq!(err("a/${basearch"), "Unclosed variable");
        assert_eq!(
            varsubst_basearch("u/${basearch}").unwrap(),
            format!("u/{}", basearch())
        );
    }
}
