//! Shapes and sizes of string arguments, checked when a call is parsed,
//! before anything reaches a helper's command line, a boot entry or a file:
//! every string of a call has a size limit, kernel arguments hold no control
//! character (a boot entry is a line-oriented file), and the paths of
//! `initramfs-etc` are plain paths below `/etc`.

/// The longest string any argument may be (bytes).
pub const MAX_STRING: usize = 64 * 1024;
/// The longest refspec, revision, path or single kernel argument (bytes).
pub const MAX_ARG: usize = 4096;

/// The first string of `v` (any depth) longer than [`MAX_STRING`]: its
/// length.
pub fn oversized(v: &glib::Variant) -> Option<usize> {
    if let Some(s) = v.str() {
        return (s.len() > MAX_STRING).then_some(s.len());
    }
    if v.is_container() {
        if v.type_().is_subtype_of(glib::VariantTy::BYTE_STRING) {
            return (v.size() > MAX_STRING).then_some(v.size());
        }
        return (0..v.n_children()).find_map(|i| oversized(&v.child_value(i)));
    }
    None
}

/// `s` (the `what` of a call) is at most `max` bytes.
pub fn size(what: &str, s: &str, max: usize) -> Result<(), String> {
    if s.len() > max {
        return Err(format!(
            "{what} is too long ({} bytes; at most {max})",
            s.len()
        ));
    }
    Ok(())
}

fn control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// A kernel argument (or a dracut argument): no control character, no
/// unbalanced quote, of a sane size, not empty.
pub fn kernel_arg(a: &str) -> Result<(), String> {
    size("Kernel argument", a, MAX_ARG)?;
    if a.is_empty() {
        return Err("Invalid empty kernel argument".into());
    }
    if control(a) {
        return Err(format!(
            "Invalid kernel argument {a:?}: control characters are not allowed"
        ));
    }
    if !a.matches('"').count().is_multiple_of(2) {
        return Err(format!("Invalid kernel argument {a:?}: unbalanced quote"));
    }
    Ok(())
}

/// A whole kernel command line (space-separated arguments).
pub fn kernel_cmdline(s: &str) -> Result<(), String> {
    size("Kernel command line", s, MAX_STRING)?;
    if control(s) {
        return Err(format!(
            "Invalid kernel command line {s:?}: control characters are not allowed"
        ));
    }
    Ok(())
}

/// A file to track in the initramfs: absolute, below `/etc`, without `.`,
/// `..` or empty components, no control character. Returns it normalized
/// (a trailing `/` dropped).
pub fn etc_path(p: &str) -> Result<String, String> {
    size("Path", p, MAX_ARG)?;
    let outside = || format!("Path outside /etc forbidden: {p}");
    if control(p) {
        return Err(format!(
            "Invalid path {p:?}: control characters are not allowed"
        ));
    }
    let trimmed = p.strip_suffix('/').unwrap_or(p);
    let Some(rest) = trimmed.strip_prefix("/etc/") else {
        return Err(outside());
    };
    if rest
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(format!(
            "Invalid path {p}: '.', '..' and empty components are not allowed"
        ));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use glib::prelude::*;

    #[test]
    fn kernel_arguments() {
        assert!(kernel_arg("quiet").is_ok());
        assert!(kernel_arg("console=ttyS0,115200").is_ok());
        assert!(kernel_arg("foo=\"a b\"").is_ok());
        for bad in ["x=1\ninitrd /evil", "a\0b", "tab\there", "", "q=\"open"] {
            assert!(kernel_arg(bad).is_err(), "{bad:?}");
        }
        assert!(kernel_arg(&"a".repeat(MAX_ARG + 1)).is_err());
        assert!(kernel_cmdline("quiet rhgb").is_ok());
        assert!(kernel_cmdline("quiet\ninitrd /x").is_err());
    }

    #[test]
    fn etc_paths() {
        assert_eq!(etc_path("/etc/foo.conf").unwrap(), "/etc/foo.conf");
        assert_eq!(etc_path("/etc/dir/").unwrap(), "/etc/dir");
        for bad in [
            "/etc/./shadow",
            "/etc//shadow",
            "/etc/",
            "/etc",
            "/etc/../root",
            "/etc/a\nb",
            "etc/x",
            "/var/x",
        ] {
            assert!(etc_path(bad).is_err(), "{bad:?}");
        }
        assert!(
            etc_path("/usr/x")
                .unwrap_err()
                .contains("Path outside /etc forbidden")
        );
    }

    #[test]
    fn oversized_strings_anywhere_in_a_call() {
        let big = "x".repeat(MAX_STRING + 1);
        let ok = ("a", vec!["b".to_string()]).to_variant();
        assert_eq!(oversized(&ok), None);
        let nested = ("a", vec!["b".to_string(), big.clone()]).to_variant();
        assert_eq!(oversized(&nested), Some(MAX_STRING + 1));
        let d = glib::VariantDict::new(None);
        d.insert("revision", big.as_str());
        assert_eq!(oversized(&(d.end(),).to_variant()), Some(MAX_STRING + 1));
    }
}
