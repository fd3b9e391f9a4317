#!/usr/bin/python3
"""What the compile path adds to a compile: router, queue, worker and events gateway.

Three ways to the same compile (`int square(int)` at -O2, cache bypassed), alternated request
by request over keep-alive connections so that machine noise falls on all of them alike:

  direct    a worker's own HTTP API: the compile service alone (the baseline)
  embedded  `cex serve`: router, in-memory queue, worker and events hub in one process
  nats      `cex router` -> nats-server (JetStream) -> `cex worker` -> `cex events` -> router

It prints p50 and p99 of each and what each path adds over the direct compile, then the
router's throughput for cached results (wrk) next to a trivial GET of the same router.
"""

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import cexcluster  # noqa: E402
import cexlib  # noqa: E402
from e2e_compile import wrk, wrk_post  # noqa: E402

SOURCE = "int square(int n) {\n    return n * n;\n}\n"
BODY = {"source": SOURCE, "options": {"userArguments": "-O2"}, "bypassCache": 1}


class KeepAliveClient:
    def __init__(self, port, compiler):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.path = f"/api/compiler/{compiler}/compile"
        self.body = json.dumps(BODY).encode()
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def timed_compile(self):
        start = time.perf_counter()
        self.conn.request("POST", self.path, body=self.body, headers=self.headers)
        r = self.conn.getresponse()
        data = r.read()
        elapsed = time.perf_counter() - start
        assert r.status == 200 and json.loads(data)["code"] == 0, data[:300]
        return elapsed * 1000


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(clients, runs):
    for client in clients.values():  # warm every path
        for _ in range(5):
            client.timed_compile()
    times = {name: [] for name in clients}
    for _ in range(runs):
        for name, client in clients.items():
            times[name].append(client.timed_compile())
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--compiler", default="g122")
    parser.add_argument("--sandbox", default="none", help="bwrap or none, for every path")
    args = parser.parse_args()
    sandbox = ["--sandbox", args.sandbox]

    with cexcluster.Cluster() as cluster, cexlib.CexServer(extra_args=sandbox) as serve:
        events = cluster.events()
        worker = cluster.worker(events, extra=sandbox)
        cluster.admin("routing", "update", "--env", "prod", "--from",
                      f"http://127.0.0.1:{worker.port}")
        router = cluster.router(events)
        clients = {"direct": KeepAliveClient(worker.port, args.compiler),
                   "embedded": KeepAliveClient(serve.port, args.compiler),
                   "nats": KeepAliveClient(router.port, args.compiler)}
        times = measure(clients, args.runs)

        cached = dict(BODY)
        del cached["bypassCache"]
        router.compile_json(args.compiler, cached)  # fill the shared result cache
        url = f"http://127.0.0.1:{router.port}"
        hits, hit_errors = wrk_post(f"{url}/api/compiler/{args.compiler}/compile", args.seconds,
                                    json.dumps(cached))
        health, _ = wrk(f"{url}/healthcheck", args.seconds)
        serve.compile_json(args.compiler, cached)
        local_hits, local_errors = wrk_post(
            f"http://127.0.0.1:{serve.port}/api/compiler/{args.compiler}/compile", args.seconds,
            json.dumps(cached))

    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}  machine: {platform.node()} "
          f"({os.cpu_count()} cores, {platform.machine()})  compiler: {args.compiler}  "
          f"sandbox: {args.sandbox}  runs: {args.runs} each, alternated")
    base50 = statistics.median(times["direct"])
    base99 = percentile(times["direct"], 99)
    for name, values in times.items():
        p50, p99 = statistics.median(values), percentile(values, 99)
        line = f"{name:9s} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"
        if name != "direct":
            line += f"  added p50 {p50 - base50:+.2f} ms  p99 {p99 - base99:+.2f} ms"
        print(line)
    print("goals: added p50 <= 1 ms embedded, <= 3 ms over NATS")
    print(f"router cached results: {hits:.0f} requests/s (non-2xx: {hit_errors}); "
          f"GET /healthcheck of the same router {health:.0f} requests/s; "
          f"ratio {hits / health:.2f}")
    print(f"cex serve cached results: {local_hits:.0f} requests/s (non-2xx: {local_errors})")


if __name__ == "__main__":
    main()
