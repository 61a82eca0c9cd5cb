#!/usr/bin/python3
"""bus_calls.py CALLS_JSON - make D-Bus calls to org.projectatomic.rpmostree1 on the
system bus (DBUS_SYSTEM_BUS_ADDRESS) as whoever runs this, one after the other.

CALLS_JSON is a JSON list of [object_path, interface, method, gvariant_args_text].
Each call allows interactive authorization and waits up to 60 s. Prints one JSON
line per call, in order: {"ok": true, "reply": "<GVariant text>"} or
{"ok": false, "name": "<D-Bus error name>", "message": "<message>"}.
Exit status 0 (the outcome of each call is in its line).
"""
import json
import sys

from gi.repository import Gio, GLib

bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
for path, iface, method, args in json.loads(sys.argv[1]):
    params = GLib.Variant.parse(None, args, None, None) if args else None
    try:
        reply = bus.call_sync("org.projectatomic.rpmostree1", path, iface, method, params,
                              None, Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION,
                              60000, None)
        print(json.dumps({"ok": True, "reply": reply.print_(True) if reply else ""}), flush=True)
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e) or ""
        message = e.message
        if message.startswith("GDBus.Error:") and ": " in message:
            message = message.split(": ", 1)[1]
        print(json.dumps({"ok": False, "name": name, "message": message}), flush=True)
