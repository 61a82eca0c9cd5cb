//! File capabilities as the kernel stores them: a capability text from an
//! RPM header (`cap_net_raw=ep`, the `cap_to_text` form) made into the value
//! of the `security.capability` extended attribute (`vfs_cap_data`,
//! revision 2: the permitted and inheritable sets, and the effective bit).

use anyhow::{Result, bail};

/// The capability names, by number (linux/capability.h).
const NAMES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
const VFS_CAP_FLAGS_EFFECTIVE: u32 = 0x0000_0001;

/// The sets a capability text grants.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sets {
    effective: u64,
    permitted: u64,
    inheritable: u64,
}

fn bits_of(list: &str) -> Result<u64> {
    let mut bits = 0u64;
    for name in list.split(',') {
        let name = name.trim().to_ascii_lowercase();
        let name = name.strip_prefix("cap_").unwrap_or(&name);
        if name == "all" {
            bits |= (1u64 << NAMES.len()) - 1;
            continue;
        }
        match NAMES.iter().position(|n| *n == name) {
            Some(i) => bits |= 1 << i,
            None => bail!("Unknown capability '{name}'"),
        }
    }
    Ok(bits)
}

/// Parses the `cap_to_text` form: clauses `names[=+-]flags`, separated by spaces.
fn parse(text: &str) -> Result<Sets> {
    let mut s = Sets::default();
    for clause in text.split_whitespace() {
        let Some(op_at) = clause.find(['=', '+', '-']) else {
            bail!("Invalid capability clause '{clause}'");
        };
        let (names, rest) = clause.split_at(op_at);
        let mut chars = rest.chars();
        let op = chars.next().unwrap_or('=');
        let flags: String = chars.collect();
        let bits = if names.is_empty() {
            (1u64 << NAMES.len()) - 1
        } else {
            bits_of(names)?
        };
        if op == '=' {
            s.effective &= !bits;
            s.permitted &= !bits;
            s.inheritable &= !bits;
        }
        for f in flags.chars() {
            let set = match f {
                'e' => &mut s.effective,
                'p' => &mut s.permitted,
                'i' => &mut s.inheritable,
                _ => bail!("Invalid capability flag '{f}' in '{clause}'"),
            };
            if op == '-' {
                *set &= !bits;
            } else {
                *set |= bits;
            }
        }
    }
    Ok(s)
}

/// The `security.capability` value for a capability text.
pub(crate) fn to_xattr(text: &str) -> Result<Vec<u8>> {
    let s = parse(text)?;
    let mut magic = VFS_CAP_REVISION_2;
    if s.effective != 0 {
        magic |= VFS_CAP_FLAGS_EFFECTIVE;
    }
    let mut out = Vec::with_capacity(20);
    out.extend_from_slice(&magic.to_le_bytes());
    for half in [0, 32] {
        out.extend_from_slice(&((s.permitted >> half) as u32).to_le_bytes());
        out.extend_from_slice(&((s.inheritable >> half) as u32).to_le_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_raw_ep() {
        // What setcap cap_net_raw=ep writes: revision 2 + effective; bit 13 permitted.
        let v = to_xattr("cap_net_raw=ep").unwrap();
        assert_eq!(
            v,
            [
                1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ]
        );
    }

    #[test]
    fn several_clauses_and_high_bits() {
        let s = parse("cap_chown,cap_kill+ep cap_bpf=i").unwrap();
        assert_eq!(s.permitted, 1 | (1 << 5));
        assert_eq!(s.inheritable, 1 << 39);
        let v = to_xattr("cap_bpf=p").unwrap();
        assert_eq!(&v[0..4], &[0, 0, 0, 2]);
        assert_eq!(&v[12..16], &(1u32 << 7).to_le_bytes());
        assert!(to_xattr("cap_nonsense=ep").is_err());
        assert!(to_xattr("cap_chown=x").is_err());
    }
}
