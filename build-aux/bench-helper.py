#!/usr/bin/python3
"""bench-helper.py: the measuring loops of build-aux/bench.sh (run with /usr/bin/python3).

  bench-helper.py times ROUNDS WARMUP NAME CMD [ARGS...] [--- NAME CMD [ARGS...]]...
      Runs the commands ROUNDS times each, interleaved (round i runs every command
      once, in an order rotated by i, so that drift hits them alike), after WARMUP
      untimed rounds. stdin is /dev/null, stdout and stderr are discarded; a command
      that exits non-zero is an error. For each NAME prints one line:
          NAME MEDIAN_MS MIN_MS P90_MS MAXRSS_KIB
      (wall time from fork to reaped; MAXRSS_KIB: median of the child's ru_maxrss).
      With $BENCH_CMD_LOG set, the commands' output is appended to that file instead.

  bench-helper.py start ROUNDS CMD [ARGS...]
      ROUNDS times: subscribes to NameOwnerChanged of org.projectatomic.rpmostree1 on
      the system bus ($DBUS_SYSTEM_BUS_ADDRESS), spawns CMD (the daemon), and takes the
      time from just before the spawn to the signal saying the name is owned; reads
      the daemon's own "Acquired ... in N ms"; SIGTERMs it and waits until it has
      exited and the name is free again. Prints:
          start EXTERNAL_MEDIAN_MS EXTERNAL_MIN_MS INTERNAL_MEDIAN_MS INTERNAL_MIN_MS

  bench-helper.py calls CALLS WARMUP
      On one bus connection, CALLS interleaved rounds (after WARMUP) of: Peer.Ping to the
      daemon (the bus round-trip floor), Properties.GetAll of the Sysroot object, of the
      booted OS object, and Sysroot.Reload; every 5th round also a new bus connection
      (connect + authenticate + Hello, then close). Each call timed; for each prints
          NAME MEDIAN_US MIN_US P90_US COUNT
      with NAME in ping getall_sysroot getall_os reload connect.
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import time

BUS_NAME = "org.projectatomic.rpmostree1"
SYSROOT_PATH = "/org/projectatomic/rpmostree1/Sysroot"
SYSROOT_IFACE = "org.projectatomic.rpmostree1.Sysroot"


def die(msg):
    print(f"bench-helper.py: {msg}", file=sys.stderr)
    sys.exit(1)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p * (len(s) - 1))))]


def run_once(argv):
    log = os.environ.get("BENCH_CMD_LOG")
    out = (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log \
        else (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)
    t0 = time.perf_counter_ns()
    pid = os.posix_spawnp(argv[0], argv, os.environ,
                          file_actions=[(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                                        out, (os.POSIX_SPAWN_DUP2, 1, 2)])
    _, status, rusage = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        die(f"{' '.join(argv)} exited with {code}" + (f" (output in {log})" if log else ""))
    return (t1 - t0) / 1e6, rusage.ru_maxrss


def cmd_times(args):
    rounds, warmup = int(args[0]), int(args[1])
    cmds, cur = [], []
    for a in args[2:] + ["---"]:
        if a == "---":
            if len(cur) < 2:
                die("times: each entry needs NAME CMD")
            cmds.append((cur[0], cur[1:]))
            cur = []
        else:
            cur.append(a)
    walls = {n: [] for n, _ in cmds}
    rss = {n: [] for n, _ in cmds}
    for i in range(warmup + rounds):
        k = i % len(cmds)
        for name, argv in cmds[k:] + cmds[:k]:
            w, r = run_once(argv)
            if i >= warmup:
                walls[name].append(w)
                rss[name].append(r)
    for name, _ in cmds:
        v = walls[name]
        print(f"{name} {statistics.median(v):.2f} {min(v):.2f} {pct(v, 0.9):.2f} "
              f"{int(statistics.median(rss[name]))}")


def bus():
    from gi.repository import Gio
    return Gio.bus_get_sync(Gio.BusType.SYSTEM, None)


def cmd_start(args):
    from gi.repository import Gio, GLib
    rounds, argv = int(args[0]), args[1:]
    conn = bus()
    ctx = GLib.MainContext.default()
    state = {"owned": None, "freed": False}

    def on_signal(_c, _s, _p, _i, _n, params):
        name, _old, new = params.unpack()
        if name != BUS_NAME:
            return
        if new:
            if state["owned"] is None:
                state["owned"] = time.perf_counter_ns()
        else:
            state["freed"] = True

    conn.signal_subscribe("org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
                          "/org/freedesktop/DBus", BUS_NAME, Gio.DBusSignalFlags.NONE, on_signal)

    def has_owner():
        r = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "NameHasOwner", GLib.Variant("(s)", (BUS_NAME,)), None,
                           Gio.DBusCallFlags.NONE, 5000, None)
        return r.unpack()[0]

    def iterate_until(cond, timeout_s, what):
        deadline = time.monotonic() + timeout_s
        while not cond():
            if time.monotonic() > deadline:
                die(f"start: timed out waiting for {what}")
            ctx.iteration(False) or time.sleep(0.0002)

    acquired = re.compile(r"Acquired " + re.escape(BUS_NAME) + r" in (\d+) ms")
    if has_owner():
        die(f"start: {BUS_NAME} is already owned: stop the daemon first")
    external, internal = [], []
    for _ in range(rounds):
        state["owned"], state["freed"] = None, False
        err = bytearray()
        t0 = time.perf_counter_ns()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        os.set_blocking(p.stderr.fileno(), False)

        def logged():  # the daemon's own report, read as it comes
            try:
                err.extend(os.read(p.stderr.fileno(), 65536) or b"")
            except BlockingIOError:
                pass
            return acquired.search(err.decode(errors="replace"))

        try:
            iterate_until(lambda: state["owned"] is not None or p.poll() is not None, 10, "the name")
            if state["owned"] is None:
                logged()
                die(f"start: the daemon exited with {p.returncode} before owning the name: "
                    f"{err.decode(errors='replace')}")
            external.append((state["owned"] - t0) / 1e6)
            # SIGTERM only once the daemon has said it (it prints right after RequestName).
            iterate_until(lambda: logged() or p.poll() is not None, 10, "'Acquired ... in N ms'")
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
        iterate_until(lambda: state["freed"] or not has_owner(), 10, "the name to be released")
        m = logged()
        p.stderr.close()
        if not m:
            die(f"start: no 'Acquired ... in N ms' in the daemon's stderr: {bytes(err)!r}")
        internal.append(float(m.group(1)))
    print(f"start {statistics.median(external):.1f} {min(external):.1f} "
          f"{statistics.median(internal):.1f} {min(internal):.1f}")


def cmd_calls(args):
    from gi.repository import Gio, GLib
    calls, warmup = int(args[0]), int(args[1])
    address = Gio.dbus_address_get_for_bus_sync(Gio.BusType.SYSTEM, None)
    conn = bus()
    flags = Gio.DBusCallFlags.NONE

    def call(path, iface, method, params=None):
        return conn.call_sync(BUS_NAME, path, iface, method, params, None, flags, 5000, None)

    props = call(SYSROOT_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                 GLib.Variant("(s)", (SYSROOT_IFACE,))).unpack()[0]
    os_path = props.get("Booted")
    if not os_path or os_path == "/":
        die("calls: the daemon reports no booted OS object")

    def connect():
        c = Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        c.close_sync(None)

    tests = [
        ("ping", lambda: call(SYSROOT_PATH, "org.freedesktop.DBus.Peer", "Ping")),
        ("getall_sysroot", lambda: call(SYSROOT_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                                        GLib.Variant("(s)", (SYSROOT_IFACE,)))),
        ("getall_os", lambda: call(os_path, "org.freedesktop.DBus.Properties", "GetAll",
                                   GLib.Variant("(s)", ("org.projectatomic.rpmostree1.OS",)))),
        ("reload", lambda: call(SYSROOT_PATH, SYSROOT_IFACE, "Reload")),
        ("connect", connect),
    ]
    times = {n: [] for n, _ in tests}
    for i in range(warmup + calls):
        for name, fn in tests:
            if name == "connect" and i % 5:
                continue  # a new connection is costlier: every 5th round
            t0 = time.perf_counter_ns()
            fn()
            t1 = time.perf_counter_ns()
            if i >= warmup:
                times[name].append((t1 - t0) / 1e3)
    for name, _ in tests:
        v = times[name]
        print(f"{name} {statistics.median(v):.0f} {min(v):.0f} {pct(v, 0.9):.0f} {len(v)}")


def main():
    if len(sys.argv) < 2:
        die("usage: see the docstring")
    cmd, args = sys.argv[1], sys.argv[2:]
    {"times": cmd_times, "start": cmd_start, "calls": cmd_calls}.get(
        cmd, lambda _a: die(f"unknown subcommand {cmd}"))(args)


if __name__ == "__main__":
    main()
