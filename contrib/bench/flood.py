#!/usr/bin/env python3
"""flood.py: hostile-input benchmark for tocsind (issue 11, "Robustness").

Starts tocsind on a temp dir and measures, over loopback:

  idle     N idle connections (no byte sent) from 127.0.0.2..; then the
           latency of GET /healthz and of one alert POST from 127.0.0.1
  trickle  the same with connections sending their headers one byte a second
  memory   C concurrent bodies of about 1 MB each (many alerts of SIZE
           bytes), then L concurrent GET /api/v1/incidents?limit=1000; the
           daemon's peak RSS (VmHWM) after each phase

It is a benchmark, not a test: figures depend on the machine. Usage:

  contrib/bench/flood.py --tocsind core/tocsind --plugin-dir stage/plugins
  contrib/bench/flood.py ... --scenarios memory --bodies 32 --lists 8
"""
import argparse
import concurrent.futures as cf
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    return -1


class Daemon:
    def __init__(self, args):
        self.dir = tempfile.mkdtemp(prefix="tocsin-flood.")
        os.mkdir(f"{self.dir}/state")
        extra = "\n".join(f"  {x};" for x in args.daemon_option)
        with open(f"{self.dir}/tocsin.conf", "w") as f:
            f.write(f"""daemon = {{
  listen = "127.0.0.1:0";
  state_dir = "{self.dir}/state";
  plugin_dir = "{os.path.abspath(args.plugin_dir)}";
  log_level = "{args.log_level}";
{extra}
}};
inputs = ( {{ id = "prom"; plugin = "alertmanager"; }}, {{ id = "api"; plugin = "generic"; }} );
sinks = ( {{ id = "console"; plugin = "console"; path = "/dev/null"; }} );
routes = ( {{ sinks = [ "console" ]; }} );
""")
        self.log = open(f"{self.dir}/tocsind.log", "w")
        self.proc = subprocess.Popen([args.tocsind, "-f", "-c", f"{self.dir}/tocsin.conf"],
                                     stdout=self.log, stderr=self.log)
        addr = f"{self.dir}/state/tocsind.addr"
        for _ in range(500):
            if os.path.exists(addr):
                break
            time.sleep(0.02)
        else:
            sys.exit("tocsind did not start; log in " + self.dir)
        host, port = open(addr).read().strip().rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.pid = self.proc.pid

    def stop(self, keep):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed after 30 s"
        self.log.close()
        if keep:
            print(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return rc


def request(d, method, path, body=None, timeout=30, src="127.0.0.1"):
    t0 = time.monotonic()
    c = http.client.HTTPConnection(d.host, d.port, timeout=timeout,
                                   source_address=(src, 0))
    try:
        c.request(method, path, body=body,
                  headers={"Content-Type": "application/json"} if body else {})
        r = c.getresponse()
        data = r.read()
        return r.status, data, time.monotonic() - t0
    except OSError as e:
        return 0, str(e).encode(), time.monotonic() - t0
    finally:
        c.close()


def alert(name, i, size):
    # Large labels: the incident list shows them, so they also load the reads.
    return {"labels": {"alertname": name, "seq": str(i), "blob": "x" * size},
            "annotations": {"summary": "flood"}}


def open_idle(d, n, addrs, trickle):
    socks = []
    refused = 0
    for i in range(n):
        s = socket.socket()
        try:
            s.bind((f"127.0.0.{2 + i % addrs}", 0))
            s.settimeout(2)
            s.connect((d.host, d.port))
            s.setblocking(False)
            socks.append(s)
        except OSError:
            refused += 1
            s.close()
    stop = threading.Event()

    def drip():
        line = b"POST /api/v1/alerts HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n"
        k = 0
        while not stop.wait(1.0):
            for s in socks:
                try:
                    s.send(line[k % len(line):k % len(line) + 1])
                except OSError:
                    pass
            k += 1
    t = threading.Thread(target=drip, daemon=True)
    if trickle:
        t.start()
    return socks, refused, stop


def closed_count(socks):
    n = 0
    for s in socks:
        try:
            if s.recv(1, socket.MSG_PEEK) == b"":
                n += 1
        except BlockingIOError:
            pass
        except OSError:
            n += 1
    return n


def scenario_conns(d, args, trickle):
    name = "trickle" if trickle else "idle"
    socks, refused, stop = open_idle(d, args.connections, args.addresses, trickle)
    time.sleep(1)
    h = request(d, "GET", "/healthz", timeout=10)
    body = json.dumps([alert("FloodProbe", 0, 10)]).encode()
    p = request(d, "POST", "/api/v2/alerts", body, timeout=10)
    h2 = request(d, "GET", "/healthz", timeout=10, src="127.0.0.2")
    print(f"{name}: {len(socks)} connections open ({refused} refused at connect) "
          f"from {args.addresses} addresses; threads {thread_count(d.pid)}; RSS {vm(d.pid, 'VmRSS')} MB")
    print(f"{name}: GET /healthz {h[0]} in {h[2]*1000:.0f} ms; POST alert {p[0]} in "
          f"{p[2]*1000:.0f} ms; /healthz from 127.0.0.2 (a flooding address) {h2[0]} in "
          f"{h2[2]*1000:.0f} ms")
    if args.wait_timeout:
        time.sleep(args.wait_timeout)
        print(f"{name}: after {args.wait_timeout} s, {closed_count(socks)} of {len(socks)} "
              f"closed by the daemon")
    stop.set()
    for s in socks:
        s.close()


def thread_count(pid):
    return vm_raw(pid, "Threads")


def vm_raw(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def scenario_memory(d, args):
    per = args.alert_size
    n = max(1, 1000000 // (per + 80))  # just under max_body's default 1M
    bodies = [json.dumps([alert(f"Flood{b}", i, per) for i in range(n)]).encode()
              for b in range(args.bodies)]
    base = vm(d.pid, "VmHWM")
    with cf.ThreadPoolExecutor(args.bodies) as ex:
        res = list(ex.map(lambda b: request(d, "POST", "/api/v2/alerts", b, timeout=120), bodies))
    codes = {}
    for r in res:
        codes[r[0]] = codes.get(r[0], 0) + 1
    print(f"memory: {args.bodies} concurrent bodies of {len(bodies[0]) >> 10} KiB "
          f"({n} alerts of {per} B): answers {codes}; slowest {max(r[2] for r in res):.2f} s; "
          f"VmHWM {base} -> {vm(d.pid, 'VmHWM')} MB")
    # Make sure the store holds large incidents to list, whatever was refused.
    for b in range(4):
        request(d, "POST", "/api/v2/alerts", json.dumps(
            [alert(f"Big{b}", i, per) for i in range(min(n, 200))]).encode(), timeout=120)
    with cf.ThreadPoolExecutor(args.lists) as ex:
        res = list(ex.map(lambda _: request(d, "GET", "/api/v1/incidents?limit=1000",
                                            timeout=120), range(args.lists)))
    sizes = sorted(len(r[1]) for r in res)
    codes = {}
    for r in res:
        codes[r[0]] = codes.get(r[0], 0) + 1
    print(f"memory: {args.lists} concurrent GET /api/v1/incidents?limit=1000: answers "
          f"{codes}, {sizes[-1] >> 10} KiB each at most; slowest {max(r[2] for r in res):.2f} s; "
          f"VmHWM now {vm(d.pid, 'VmHWM')} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tocsind", default="core/tocsind")
    ap.add_argument("--plugin-dir", default="stage/plugins")
    ap.add_argument("--scenarios", default="idle trickle memory")
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--addresses", type=int, default=40,
                    help="flood from 127.0.0.2 .. 127.0.0.(1+N)")
    ap.add_argument("--wait-timeout", type=int, default=0,
                    help="then wait this long and count connections the daemon closed")
    ap.add_argument("--bodies", type=int, default=32)
    ap.add_argument("--lists", type=int, default=8)
    ap.add_argument("--alert-size", type=int, default=4000,
                    help="bytes of description per alert")
    ap.add_argument("--daemon-option", action="append", default=[],
                    help='extra daemon setting, e.g. max_connections_per_ip=64')
    ap.add_argument("--log-level", default="warn")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    d = Daemon(args)
    try:
        for s in args.scenarios.split():
            if s == "idle":
                scenario_conns(d, args, False)
            elif s == "trickle":
                scenario_conns(d, args, True)
            elif s == "memory":
                scenario_memory(d, args)
            else:
                sys.exit(f"unknown scenario {s}")
        print(f"peak RSS (VmHWM) {vm(d.pid, 'VmHWM')} MB; threads now {thread_count(d.pid)}")
    finally:
        print(f"exit: {d.stop(args.keep)}")


if __name__ == "__main__":
    main()
