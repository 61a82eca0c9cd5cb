#!/usr/bin/python3
"""fuzz.py XML SEED CALLS [TIMEOUT_S]

Random calls to org.projectatomic.rpmostree1 on the system bus
(DBUS_SYSTEM_BUS_ADDRESS), as whoever runs this: every method of the Sysroot and
OS interfaces of the introspection XML, called CALLS times in all (methods in a
seeded random order), half with well-typed random arguments (random strings,
numbers, paths, option dictionaries with real and made-up keys, random types in
the variants), half ill-typed (a random tuple of random types). No interactive
authorization. Each call waits up to TIMEOUT_S (default 20); one that gets no
answer by then counts as a hang. Transactions the daemon creates are never
started (it abandons them). Prints one JSON line:
  {"calls": N, "replies": R, "errors": {name: count}, "hangs": H, "seed": S}
Exit status 0.
"""
import json
import random
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

NAME = "org.projectatomic.rpmostree1"
PATHS = {"Sysroot": "/org/projectatomic/rpmostree1/Sysroot", "OS": "/org/projectatomic/rpmostree1/testos"}
KEYS = ["reboot", "allow-downgrade", "dry-run", "cache-only", "revision", "set-refspec",
        "install-packages", "uninstall-packages", "initiating-command-line", "id",
        "lock-finalization", "no-pull-base", "force", "mode", "custom-origin",
        "final-kernel-args", "append-if-missing", "checksum", "bogus"]
BASIC = "sbyqniuxtdo"


def rstr(rng):
    pick = rng.randrange(8)
    if pick == 0:
        return ""
    if pick == 1:
        return "x" * rng.choice([1, 100, 5000, 70000])
    if pick == 2:
        return rng.choice(["/etc/../root", "testremote:testos/stable/x86_64", "a\nb", "--",
                           "ostree-unverified-registry:x", "..", "/", "0" * 64, "tp-app"])
    return "".join(chr(rng.randrange(1, 0x2ff)) for _ in range(rng.randrange(1, 40)))


def rtype(rng, depth=0):
    if depth > 2 or rng.random() < 0.6:
        return rng.choice(BASIC)
    kind = rng.randrange(4)
    if kind == 0:
        return "a" + rtype(rng, depth + 1)
    if kind == 1:
        return "a{s" + rtype(rng, depth + 1) + "}"
    if kind == 2:
        return "(" + "".join(rtype(rng, depth + 1) for _ in range(rng.randrange(1, 3))) + ")"
    return "v"


def rvalue(rng, sig):
    """A random GVariant of type `sig` (a single complete type)."""
    t = GLib.VariantType.new(sig)
    if sig == "s":
        return GLib.Variant("s", rstr(rng))
    if sig == "o":
        return GLib.Variant("o", rng.choice(["/", "/x", "/org/projectatomic/rpmostree1/testos"]))
    if sig == "g":
        return GLib.Variant("g", "s")
    if sig == "b":
        return GLib.Variant("b", rng.random() < 0.5)
    if sig == "d":
        return GLib.Variant("d", rng.uniform(-1e9, 1e9))
    if sig in "yqnixtu":
        bits = {"y": 8, "q": 16, "n": 16, "i": 32, "u": 32, "x": 64, "t": 64}[sig]
        lo = -(1 << (bits - 1)) if sig in "nix" else 0
        hi = (1 << (bits - 1)) - 1 if sig in "nix" else (1 << bits) - 1
        return GLib.Variant(sig, rng.randint(lo, hi))
    if sig == "h":
        return GLib.Variant("h", 0)
    if sig == "v":
        return GLib.Variant("v", rvalue(rng, rtype(rng, 2)))
    if sig == "a{sv}":
        d = {}
        for _ in range(rng.randrange(0, 4)):
            d[rng.choice(KEYS)] = rvalue(rng, rng.choice(["b", "s", "as", "i", "(ss)", "ah"]))
        return GLib.Variant("a{sv}", d)
    if t.is_array():
        elem = t.element().dup_string()
        items = [rvalue(rng, elem) for _ in range(rng.randrange(0, 4))]
        return GLib.Variant.new_array(t.element(), items)
    if t.is_tuple():
        return GLib.Variant.new_tuple(*[rvalue(rng, x) for x in split(sig[1:-1])])
    if t.is_dict_entry():
        return GLib.Variant.new_dict_entry(rvalue(rng, t.key().dup_string()),
                                           rvalue(rng, t.value().dup_string()))
    return GLib.Variant("s", "")


def split(sigs):
    """The complete types of a concatenation of types."""
    out, i = [], 0
    while i < len(sigs):
        j, depth = i, 0
        while True:
            c = sigs[j]
            j += 1
            if c in "({":
                depth += 1
            elif c in ")}":
                depth -= 1
            if depth == 0 and c != "a":
                break
        out.append(sigs[i:j])
        i = j
    return out


def methods(xml):
    node = Gio.DBusNodeInfo.new_for_xml(open(xml).read())
    out = []
    for iface in node.interfaces:
        short = iface.name.rsplit(".", 1)[-1]
        if short not in PATHS:
            continue
        for m in iface.methods:
            out.append((PATHS[short], iface.name, m.name, [a.signature for a in m.in_args]))
    return out


def main():
    xml, seed, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    timeout = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    rng = random.Random(seed)
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    ms = methods(xml)
    replies, hangs, errors = 0, 0, {}
    for n in range(calls):
        path, iface, method, sigs = rng.choice(ms)
        if n % 2 == 0:
            args = GLib.Variant.new_tuple(*[rvalue(rng, s) for s in sigs])
        else:
            args = GLib.Variant.new_tuple(*[rvalue(rng, rtype(rng)) for _ in range(rng.randrange(0, 4))])
        try:
            bus.call_sync(NAME, path, iface, method, args, None, Gio.DBusCallFlags.NONE,
                          timeout * 1000, None)
            replies += 1
        except GLib.Error as e:
            if e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT):
                hangs += 1
                name = "timeout"
            else:
                name = Gio.DBusError.get_remote_error(e) or e.message[:60]
            errors[name] = errors.get(name, 0) + 1
    print(json.dumps({"calls": calls, "replies": replies, "errors": errors, "hangs": hangs,
                      "seed": seed}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
