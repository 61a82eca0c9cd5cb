#!/usr/bin/python3
"""peer_flood.py ADDRESS N

Opens N authenticated (EXTERNAL) D-Bus connections to the transaction peer
socket ADDRESS, as whoever runs it, and holds them. Then runs the main loop
until every connection the daemon closed has been seen closed, or 10 s have
passed, and prints one JSON line:
  {"opened": A, "failed": F, "open": O}
(A connections authenticated, F refused before or during authentication, O
still open). Holds the open ones until stdin closes, then exits 0.
"""
import json
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402


def main():
    address, n = sys.argv[1], int(sys.argv[2])
    conns, failed = [], 0
    flags = Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
    for _ in range(n):
        try:
            conns.append(Gio.DBusConnection.new_for_address_sync(address, flags, None, None))
        except GLib.Error:
            failed += 1
    ctx = GLib.MainContext.default()
    expired = []
    GLib.timeout_add(10000, lambda: expired.append(True) or False)
    # The daemon closes what is over its limits at once; wait (on events,
    # with a deadline) until no more are open than it admits per user.
    while not expired and sum(not c.is_closed() for c in conns) > 8:
        ctx.iteration(True)
    is_open = sum(not c.is_closed() for c in conns)
    print(json.dumps({"opened": len(conns), "failed": failed, "open": is_open}), flush=True)
    sys.stdin.read()
    return 0


if __name__ == "__main__":
    sys.exit(main())
