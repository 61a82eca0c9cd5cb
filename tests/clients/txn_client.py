#!/usr/bin/python3
"""txn_client.py - drive an rpm-ostree transaction the way GNOME Software does.

Usage:
  txn_client.py --bus-call OBJPATH INTERFACE METHOD GVARIANT_ARGS_TEXT
                [--no-start | --cancel] [--cancel-after-start] [--timeout SECONDS]
  txn_client.py --address ADDR [--no-start | --cancel] [--cancel-after-start] [--timeout SECONDS]

--bus-call: calls METHOD on the bus name org.projectatomic.rpmostree1 over the system
  bus (Gio.bus_get_sync(SYSTEM): honours DBUS_SYSTEM_BUS_ADDRESS), parameters parsed
  with GLib.Variant.parse (a tuple in GVariant text format; annotate empty
  containers, e.g. '(@a{sv} {},)'), flag ALLOW_INTERACTIVE_AUTHORIZATION, a 1 h call
  timeout (the overall --timeout still applies). The transaction address is the first
  string of the reply tuple that starts with "unix:" (Upgrade & co. reply (s),
  AutomaticUpdateTrigger replies (bs)). The bus connection stays open until this
  program exits, so the daemon sees the initiator alive until after Start returned.
--address ADDR: connect to ADDR directly (no bus).

It connects with Gio.DBusConnection.new_for_address(ADDR, AUTHENTICATION_CLIENT),
subscribes to every signal of org.projectatomic.rpmostree1.Transaction at "/", reads
the Title and InitiatingClientDescription properties, calls Start() (unless
--no-start; --cancel calls Cancel instead of Start), calls Cancel() right after
Start returned (--cancel-after-start), and
waits for Finished.

Output: one JSON object per line on stdout, flushed, in this order of events:
  {"event":"reply","value":[...]}                        (--bus-call reply)
  {"event":"address","address":"unix:..."}
  {"event":"property","name":"Title","value":"..."}
  {"event":"property","name":"InitiatingClientDescription","value":"..."}
  {"event":"start","started":true|false}
  {"event":"cancel"}                                     (--cancel-after-start)
  {"event":"signal","name":"Message","args":["..."]}     (any Transaction signal;
                                                          GVariant args as JSON,
                                                          tuples as lists)
  {"event":"finished","success":true|false,"message":"..."}
  {"event":"error","name":"<D-Bus error name or empty>","message":"..."}
  {"event":"timeout","seconds":N}
Exit status (always after the last line is printed): 0 Finished(true),
1 Finished(false), 2 any error (bus call error - its name exactly as sent by the
bus/daemon -, no "unix:" address in the reply, connection failure or close before
Finished, Start/Cancel/property errors), 3 timeout (default 120 s).
"""
import argparse
import json
import sys

from gi.repository import Gio, GLib

BUS_NAME = "org.projectatomic.rpmostree1"
TXN_IFACE = "org.projectatomic.rpmostree1.Transaction"
CALL_TIMEOUT_MS = 3600 * 1000


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def to_json(value):
    """Convert an unpacked GVariant (or a GLib.Variant) to JSON-compatible data."""
    if isinstance(value, GLib.Variant):
        return to_json(value.unpack())
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return list(value)
    return value


def error_event(err):
    """Build the error event for a GLib.Error (D-Bus error name when there is one)."""
    name = ""
    message = getattr(err, "message", str(err))
    if isinstance(err, GLib.Error):
        name = Gio.DBusError.get_remote_error(err) or ""
        prefix = "GDBus.Error:%s: " % name
        if name and message.startswith(prefix):
            message = message[len(prefix):]
    return {"event": "error", "name": name, "message": message}


def guarded(method):
    """Callbacks must not swallow exceptions (PyGObject would print and carry on)."""
    def wrapper(self, *args):
        try:
            return method(self, *args)
        except Exception as e:  # noqa: BLE001 - any failure ends the client
            try:
                emit({"event": "error", "name": "", "message": "client failure: %r" % (e,)})
            except Exception:
                pass
            self.quit(2)
            return False
    return wrapper


class Client:
    def __init__(self, opts):
        self.opts = opts
        self.loop = GLib.MainLoop()
        self.exit_code = None
        self.bus = None
        self.conn = None
        self.start_pending = False
        self.deferred_exit = None

    # -- termination ---------------------------------------------------------
    def quit(self, code):
        if self.exit_code is None:
            self.exit_code = code
            self.loop.quit()

    def fail(self, err):
        if self.exit_code is None:
            emit(error_event(err))
            self.quit(2)

    @guarded
    def on_timeout(self):
        if self.exit_code is None:
            emit({"event": "timeout", "seconds": self.opts.timeout})
            self.quit(3)
        return False

    # -- steps ---------------------------------------------------------------
    def run(self):
        GLib.timeout_add(int(self.opts.timeout * 1000), self.on_timeout)
        GLib.idle_add(self.begin)
        self.loop.run()
        return self.exit_code

    @guarded
    def begin(self):
        try:
            if self.opts.address:
                self.connect(self.opts.address)
            else:
                objpath, iface, method, args_text = self.opts.bus_call
                params = GLib.Variant.parse(None, args_text, None, None)
                if not params.get_type_string().startswith("("):
                    params = GLib.Variant.new_tuple(params)
                self.bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
                self.bus.call(BUS_NAME, objpath, iface, method, params, None,
                              Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION,
                              CALL_TIMEOUT_MS, None, self.on_bus_reply, None)
        except GLib.Error as e:
            self.fail(e)
        return False

    @guarded
    def on_bus_reply(self, bus, res, _data):
        try:
            reply = bus.call_finish(res)
        except GLib.Error as e:
            self.fail(e)
            return
        emit({"event": "reply", "value": to_json(reply)})
        address = next((v for v in reply.unpack()
                        if isinstance(v, str) and v.startswith("unix:")), None)
        if address is None:
            emit({"event": "error", "name": "",
                  "message": "no transaction address in reply " + reply.print_(True)})
            self.quit(2)
            return
        self.connect(address)

    def connect(self, address):
        emit({"event": "address", "address": address})
        Gio.DBusConnection.new_for_address(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT, None, None,
            self.on_connected, None)

    @guarded
    def on_connected(self, _source, res, _data):
        try:
            self.conn = Gio.DBusConnection.new_for_address_finish(res)
        except GLib.Error as e:
            self.fail(e)
            return
        self.conn.set_exit_on_close(False)
        self.conn.connect("closed", self.on_closed)
        self.conn.signal_subscribe(None, TXN_IFACE, None, "/", None,
                                   Gio.DBusSignalFlags.NONE, self.on_signal, None)
        self.get_property(["Title", "InitiatingClientDescription"])

    def txn_call(self, method, params, reply_type, callback):
        """Asynchronous call on the transaction connection; errors end the program."""
        @guarded
        def done(self, conn, res, _data):
            try:
                reply = conn.call_finish(res)
            except GLib.Error as e:
                self.fail(e)
                return
            if self.exit_code is None:
                callback(reply)
        iface = TXN_IFACE
        if method in ("Get",):
            iface = "org.freedesktop.DBus.Properties"
        self.conn.call(None, "/", iface, method, params, reply_type,
                       Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None,
                       lambda *a: done(self, *a), None)

    def get_property(self, names):
        if not names:
            self.after_properties()
            return
        def got(reply):
            emit({"event": "property", "name": names[0], "value": to_json(reply[0])})
            self.get_property(names[1:])
        self.txn_call("Get", GLib.Variant("(ss)", (TXN_IFACE, names[0])),
                      GLib.VariantType("(v)"), got)

    def after_properties(self):
        if self.opts.cancel:
            self.txn_call("Cancel", None, None,
                          lambda _reply: emit({"event": "cancel"}))
            return
        if self.opts.no_start:
            return
        self.start_pending = True
        self.txn_call("Start", None, GLib.VariantType("(b)"), self.on_started)

    def on_started(self, reply):
        self.start_pending = False
        emit({"event": "start", "started": reply[0]})
        if self.deferred_exit is not None:      # Finished arrived before Start's reply
            self.quit(self.deferred_exit)
        elif self.opts.cancel_after_start:
            self.txn_call("Cancel", None, None,
                          lambda _reply: emit({"event": "cancel"}))

    @guarded
    def on_signal(self, _conn, _sender, _path, _iface, name, params, _data):
        if self.exit_code is not None:
            return
        if name == "Finished":
            success, message = params.unpack()
            emit({"event": "finished", "success": success, "message": message})
            code = 0 if success else 1
            if self.start_pending:
                self.deferred_exit = code   # print the Start reply first
            else:
                self.quit(code)
            return
        emit({"event": "signal", "name": name, "args": to_json(params)})

    @guarded
    def on_closed(self, _conn, remote_peer_vanished, error):
        if self.exit_code is None and self.deferred_exit is None:
            message = error.message if error else "connection closed"
            emit({"event": "error", "name": "",
                  "message": "transaction connection closed before Finished: " + message})
            self.quit(2)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--bus-call", nargs=4,
                   metavar=("OBJPATH", "INTERFACE", "METHOD", "GVARIANT_ARGS_TEXT"))
    g.add_argument("--address")
    p.add_argument("--no-start", action="store_true")
    p.add_argument("--cancel-after-start", action="store_true")
    p.add_argument("--cancel", action="store_true",
                   help="call Cancel instead of Start, then wait for Finished")
    p.add_argument("--timeout", type=float, default=120.0)
    opts = p.parse_args()
    return Client(opts).run()


if __name__ == "__main__":
    sys.exit(main())
