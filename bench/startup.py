#!/usr/bin/python3
"""Time from starting `cex serve` to its first 200 on /healthcheck, with a warm probe cache.

Uses a Compiler Explorer configuration of at least ten compilers (symlinks to this machine's
g++ under distinct paths, each probed and cached on its own) plus every discovered compiler.
The baseline, measured in the same run, is starting and finishing `cex --help`.
"""

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import tempfile
import time

CEX = os.path.join(os.path.dirname(__file__), "..", "build", "cex")


def write_config(d, count):
    gxx = shutil.which("g++-12") or shutil.which("g++")
    lines = ["compilers=" + ":".join(f"copy{i}" for i in range(count))]
    for i in range(count):
        link = os.path.join(d, f"g++-copy{i}")
        os.symlink(gxx, link)
        lines.append(f"compiler.copy{i}.exe={link}")
    with open(os.path.join(d, "c++.local.properties"), "w") as f:
        f.write("\n".join(lines) + "\n")


def healthy(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/healthcheck")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def start_to_healthy(cex, config, cache, tmp, port):
    start = time.perf_counter()
    proc = subprocess.Popen([cex, "serve", "--port", str(port), "--config", config,
                             "--cache-dir", cache, "--tmp-dir", tmp],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not healthy(port):
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode())
            time.sleep(0.002)
        return time.perf_counter() - start, proc.stderr.readline().decode()
    finally:
        proc.terminate()
        proc.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cex", default=CEX)
    parser.add_argument("--compilers", type=int, default=12)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--port", type=int, default=10299)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        config, cache, tmp = (os.path.join(d, n) for n in ("config", "cache", "tmp"))
        for p in (config, tmp):
            os.makedirs(p)
        write_config(config, args.compilers)
        cold, _ = start_to_healthy(args.cex, config, cache, tmp, args.port)
        warm, baseline = [], []
        for _ in range(args.runs):
            t, first_line = start_to_healthy(args.cex, config, cache, tmp, args.port)
            warm.append(t)
            start = time.perf_counter()
            subprocess.run([args.cex, "--help"], stdout=subprocess.DEVNULL, check=True)
            baseline.append(time.perf_counter() - start)
    w, b = statistics.median(warm) * 1000, statistics.median(baseline) * 1000
    print(f"start to first healthy /healthcheck: cold cache {cold * 1000:.0f} ms; "
          f"warm cache p50 {w:.1f} ms over {args.runs} runs (goal < 1000 ms)")
    print(f"baseline `cex --help` p50 {b:.1f} ms; ratio {w / b:.1f}")
    print(f"first log line: {first_line.strip()}")


if __name__ == "__main__":
    main()
