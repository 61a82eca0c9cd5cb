#!/usr/bin/python3
"""httpd.py DIR [--stall | --delay MS [--delay-only SUFFIX]] [--log FILE]

Serves DIR (e.g. an ostree archive repo, TB/remote) over HTTP on 127.0.0.1 on a free
port (bound as port 0). Once listening, prints the port number as the first line on
stdout (flushed); nothing else goes to stdout. Errors go to stderr.
--stall: accept TCP connections but never read from them or answer (a "stalled
remote"); connections are held open until exit.
--delay MS: answer every request, but only after MS milliseconds (a slow remote).
--delay-only SUFFIX: delay only the requests whose path ends with SUFFIX (e.g.
.rpm: metadata comes at once, packages slowly).
--log FILE: append the path of every GET request, one per line, to FILE (flushed
before the answer is sent, so a client that has its answer finds the line).
Exits 0 on SIGTERM or SIGINT. Creates nothing but FILE.
Run with /usr/bin/python3 (or any python3 >= 3.7).
"""
import functools
import http.server
import signal
import socket
import sys
import time


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    delay = 0.0
    delay_only = ""
    log = None

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        if self.log:
            with open(self.log, "a") as f:
                f.write(self.path + "\n")
        if self.delay and self.path.endswith(self.delay_only):
            time.sleep(self.delay)
        super().do_GET()


def main():
    argv = sys.argv[1:]
    stall = "--stall" in argv
    if "--delay" in argv:
        i = argv.index("--delay")
        QuietHandler.delay = int(argv[i + 1]) / 1000.0
        del argv[i:i + 2]
    if "--delay-only" in argv:
        i = argv.index("--delay-only")
        QuietHandler.delay_only = argv[i + 1]
        del argv[i:i + 2]
    if "--log" in argv:
        i = argv.index("--log")
        QuietHandler.log = argv[i + 1]
        del argv[i:i + 2]
    args = [a for a in argv if a != "--stall"]
    if len(args) != 1:
        print("usage: httpd.py DIR [--stall | --delay MS [--delay-only SUFFIX]] [--log FILE]",
              file=sys.stderr)
        return 2
    directory = args[0]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

    if stall:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        print(sock.getsockname()[1], flush=True)
        held = []
        while True:
            conn, _ = sock.accept()
            held.append(conn)

    handler = functools.partial(QuietHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
