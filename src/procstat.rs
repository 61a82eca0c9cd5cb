//! What `/proc/PID/stat` says of a process: its state and its start time.

/// The fields of `stat` after the command name (field 2, which may hold
/// spaces and parentheses): field 3 (the state) onwards.
fn fields(stat: &str) -> Option<Vec<&str>> {
    Some(stat[stat.rfind(')')? + 1..].split_whitespace().collect())
}

fn read(pid: i32) -> Option<String> {
    (pid > 0)
        .then(|| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .flatten()
}

fn parse_start_time(stat: &str) -> Option<u64> {
    fields(stat)?.get(19)?.parse().ok()
}

/// The start time of process `pid` (clock ticks since boot, field 22), what
/// polkit identifies a process by with its pid.
pub fn start_time(pid: i32) -> Option<u64> {
    parse_start_time(&read(pid)?)
}

/// Whether process `pid` exists and is not a zombie.
pub fn is_running(pid: i32) -> bool {
    read(pid)
        .and_then(|s| fields(&s)?.first().map(|st| *st != "Z" && *st != "X"))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields() {
        let stat = "1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(stat), Some(987654));
        let me = std::process::id() as i32;
        assert!(start_time(me).is_some_and(|t| t > 0));
        assert!(is_running(me));
        assert_eq!(start_time(0), None);
        assert!(!is_running(0));
    }
}
