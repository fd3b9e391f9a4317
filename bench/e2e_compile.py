#!/usr/bin/python3
"""End-to-end compile benchmark for `cex serve`.

1. Alternates the same small compile through POST /api/compiler/<id>/compile (cache bypassed)
   and as the bare compiler command with the same arguments, N times each, and prints both
   medians and their ratio.
2. Measures cache-hit throughput with wrk, next to a trivial GET of the same server as a
   baseline from the same run.
"""

import argparse
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import cexlib  # noqa: E402

SOURCE = "int square(int n) {\n    return n * n;\n}\n"


class KeepAliveClient:
    """Posts compiles over one persistent connection, as editors and browsers do."""

    def __init__(self, port, compiler, body):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.path = f"/api/compiler/{compiler}/compile"
        self.body = json.dumps(body).encode()
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def compile(self):
        self.conn.request("POST", self.path, body=self.body, headers=self.headers)
        r = self.conn.getresponse()
        data = r.read()
        assert r.status == 200 and json.loads(data)["code"] == 0, data[:300]

    def close(self):
        self.conn.close()


def time_api(client):
    start = time.perf_counter()
    client.compile()
    return time.perf_counter() - start


def time_bare(argv, cwd):
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def bare_command(server, compiler, body, workdir):
    result = server.compile_json(compiler, body).json()
    exe = next(c["exe"] for c in server.get_json("/api/compilers?fields=id,exe") if c["id"] == compiler)
    with open(os.path.join(workdir, "example.cpp"), "w") as f:
        f.write(SOURCE)
    args = [os.path.join(workdir, a) if a in ("output.s", "example.cpp") else a
            for a in result["compilationOptions"]]
    return [exe] + args


def latency(server, compiler, runs):
    body = {"source": SOURCE, "options": {"userArguments": "-O2"}, "bypassCache": 1}
    client = KeepAliveClient(server.port, compiler, body)
    with tempfile.TemporaryDirectory() as workdir:
        argv = bare_command(server, compiler, body, workdir)
        for _ in range(5):  # warm the page cache and both paths
            time_api(client)
            time_bare(argv, workdir)
        api, bare = [], []
        for _ in range(runs):
            api.append(time_api(client))
            bare.append(time_bare(argv, workdir))
    client.close()
    return statistics.median(api) * 1000, statistics.median(bare) * 1000


def wrk(url, seconds, script=None):
    argv = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    if script:
        argv += ["-s", script]
    out = subprocess.run(argv + [url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(errors.group(1)) if errors else 0


def wrk_post(url, seconds, body):
    """wrk POSTing `body` (a JSON text) as a JSON request, as the clients send compiles."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {json.dumps(body)}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write('wrk.headers["Accept"] = "application/json"\n')
        script = f.name
    try:
        return wrk(url, seconds, script)
    finally:
        os.unlink(script)


def throughput(server, compiler, seconds):
    body = json.dumps({"source": SOURCE, "options": {"userArguments": "-O2"}})
    server.compile_json(compiler, body)  # fill the cache
    base = f"http://127.0.0.1:{server.port}"
    hits, hit_errors = wrk_post(f"{base}/api/compiler/{compiler}/compile", seconds, body)
    trivial, _ = wrk(f"{base}/api/version", seconds)
    return hits, hit_errors, trivial


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cex", default=cexlib.CEX_BIN)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--compiler", default=None, help="compiler id (default: a C++ gcc)")
    parser.add_argument("--sandbox", default="none",
                        help="the server's --sandbox: none compares the API with the same bare "
                             "command; bwrap adds the sandbox's own cost (bench/sandbox_bench)")
    args = parser.parse_args()
    cexlib.CEX_BIN = args.cex

    server = cexlib.CexServer(extra_args=["--sandbox", args.sandbox])
    server.args[0] = args.cex
    with server:
        compiler = args.compiler or cexlib.first_compiler(server, "c++", "gcc")
        api_ms, bare_ms = latency(server, compiler, args.runs)
        hits, hit_errors, trivial = throughput(server, compiler, args.seconds)

    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}  machine: {platform.node()} "
          f"({os.cpu_count()} cores, {platform.machine()})  compiler: {compiler}  "
          f"sandbox: {args.sandbox}")
    print(f"compile p50 over {args.runs} alternating runs: API {api_ms:.1f} ms, "
          f"bare compiler {bare_ms:.1f} ms, ratio {api_ms / bare_ms:.3f} (goal <= 1.05)")
    print(f"cache hits: {hits:.0f} requests/s (non-2xx: {hit_errors}); "
          f"GET /api/version baseline {trivial:.0f} requests/s; ratio {hits / trivial:.2f} "
          f"(goal >= 10000 hits/s)")


if __name__ == "__main__":
    main()
