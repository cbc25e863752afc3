#!/usr/bin/python3
"""An independent XEP-0174 peer for Herald's interop tests, built on Debian's python3-zeroconf.

Publishes one _presence._tcp service with XEP-0174 TXT fields, browses _presence._tcp and prints one JSON line
per event on stdout ({"event": "ready" | "service" | "removed", ...}). Reads "quit" (or EOF) on stdin, then
unregisters (goodbye) and exits. Every wait is bounded by --lifetime seconds.
"""
import argparse
import json
import queue
import socket
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf

TYPE = "_presence._tcp.local."


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def decode(props):
    out = {}
    for k, v in (props or {}).items():
        key = k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)
        out[key] = None if v is None else (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--instance", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--status", default="avail")
    ap.add_argument("--msg", default=None)
    ap.add_argument("--first", default=None)
    ap.add_argument("--last", default=None)
    ap.add_argument("--port", type=int, default=5298)
    ap.add_argument("--lifetime", type=float, default=60.0)
    a = ap.parse_args()

    zc = Zeroconf(interfaces=[a.address], ip_version=IPVersion.V4Only)
    props = {"txtvers": "1", "status": a.status, "nick": a.instance.split("@")[0], "port.p2pj": str(a.port)}
    if a.msg:
        props["msg"] = a.msg
    if a.first:
        props["1st"] = a.first
    if a.last:
        props["last"] = a.last
    info = ServiceInfo(TYPE, a.instance + "." + TYPE, addresses=[socket.inet_aton(a.address)], port=a.port,
                       properties=props, server=a.host + ".local.")
    zc.register_service(info)

    changes = queue.Queue()

    def on_change(zeroconf, service_type, name, state_change):
        changes.put((name, state_change))

    browser = ServiceBrowser(zc, TYPE, handlers=[on_change])
    say({"event": "ready", "instance": a.instance})

    stop = threading.Event()

    def read_stdin():
        for line in sys.stdin:
            if line.strip() == "quit":
                break
        stop.set()

    threading.Thread(target=read_stdin, daemon=True).start()
    deadline = time.monotonic() + a.lifetime
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            name, state = changes.get(timeout=0.2)
        except queue.Empty:
            continue
        if name == a.instance + "." + TYPE:
            continue
        if state == ServiceStateChange.Removed:
            say({"event": "removed", "name": name})
            continue
        si = zc.get_service_info(TYPE, name, timeout=3000)
        if si is None:
            say({"event": "unresolved", "name": name})
            continue
        say({"event": "service", "name": name, "port": si.port, "server": si.server,
             "addresses": [socket.inet_ntoa(x) for x in si.addresses if len(x) == 4], "txt": decode(si.properties)})
    browser.cancel()
    zc.unregister_service(info)
    zc.close()
    say({"event": "bye"})


if __name__ == "__main__":
    main()
