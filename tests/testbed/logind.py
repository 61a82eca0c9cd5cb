#!/usr/bin/python3
"""logind.py LOCKS_JSON

A stand-in for systemd-logind's inhibitor list on the bus at
$DBUS_SYSTEM_BUS_ADDRESS: owns org.freedesktop.login1 and answers
org.freedesktop.login1.Manager.ListInhibitors at /org/freedesktop/login1 with
the locks in LOCKS_JSON (a list of [what, who, why, mode, uid, pid]). Prints
"ready" on stdout (flushed) once the name is owned; exits 0 on SIGTERM or when
stdin closes. Nothing else of logind is there.
"""
import json
import signal
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

XML = """<node><interface name="org.freedesktop.login1.Manager">
<method name="ListInhibitors"><arg type="a(ssssuu)" direction="out"/></method>
</interface></node>"""


def main():
    locks = [tuple(x) for x in json.loads(sys.argv[1])]
    loop = GLib.MainLoop()
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    info = Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0]

    def call(_conn, _sender, _path, _iface, method, _params, invocation):
        if method == "ListInhibitors":
            invocation.return_value(GLib.Variant("(a(ssssuu))", (locks,)))
        else:
            invocation.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method)

    bus.register_object("/org/freedesktop/login1", info, call, None, None)

    def acquired(*_):
        print("ready", flush=True)

    Gio.bus_own_name_on_connection(bus, "org.freedesktop.login1",
                                   Gio.BusNameOwnerFlags.NONE, acquired, lambda *_: loop.quit())
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.PRIORITY_DEFAULT,
                      GLib.IOCondition.IN | GLib.IOCondition.HUP, lambda *_: loop.quit() or False)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
