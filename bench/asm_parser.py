#!/usr/bin/python3
"""Asm parser benchmark: MB/s and peak RSS on g++ -O2 -g listings of about 1, 10 and 50 MB.

The listings come from compiling ../shared/bench/gen_big_cpp.py output (generated once into a
cache folder). Each measurement is a fresh process (build/bench/asm_parse_bench, or the one
--bench names) whose peak RSS is read from the kernel; it maps the listing, so the listing
counts once in that figure. The baseline from the same run is `grep -c call` over the same
file: one regex pass over the same bytes.
"""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "shared", "bench", "gen_big_cpp.py")
BENCH = os.path.join(HERE, "..", "build", "bench", "asm_parse_bench")


def listing(cache, n, cut_bytes=None):
    """The -O2 -g listing for gen_big_cpp.py N, optionally cut to its first cut_bytes lines."""
    os.makedirs(cache, exist_ok=True)
    full = os.path.join(cache, f"big{n}.s")
    if not os.path.exists(full):
        src = os.path.join(cache, f"big{n}.cpp")
        with open(src, "w") as f:
            subprocess.run([sys.executable, GEN, str(n)], stdout=f, check=True)
        subprocess.run(["g++", "-O2", "-g", "-S", "-o", full, src], check=True)
    if cut_bytes is None:
        return full
    cut = os.path.join(cache, f"big{n}-first{cut_bytes}.s")
    if not os.path.exists(cut):
        with open(full, "rb") as f:
            data = f.read(cut_bytes)
        with open(cut, "wb") as f:
            f.write(data[:data.rfind(b"\n") + 1])
    return cut


def run_measured(argv):
    """Runs argv; returns (stdout, wall seconds, peak RSS bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # grep -c exits 1 on no match
        raise RuntimeError(f"{argv} failed")
    return out.decode(), wall, usage.ru_maxrss * 1024


def best_parse(bench, path, filters, repeat):
    """(parse seconds inside the process, whole-process seconds, peak RSS) of the best run."""
    best = None
    for _ in range(repeat):
        out, wall, rss = run_measured([bench, filters, path])
        seconds = float(re.search(r"seconds=([\d.]+)", out).group(1))
        if best is None or wall < best[1]:
            best = (seconds, wall, rss)
    return best


def best_grep(path, repeat):
    return min(run_measured(["grep", "-c", "call", path])[1] for _ in range(repeat))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", default="/tmp/cex-bench-listings")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bench", default=BENCH, help="the asm_parse_bench binary to run")
    args = parser.parse_args()
    cases = [("~1 MB", listing(args.cache, 2, 1_000_000)),
             ("~10 MB", listing(args.cache, 2)),
             ("~50 MB", listing(args.cache, 18))]
    print("| listing | size | filters | parse MB/s | process time vs `grep -c call` | "
          "peak RSS | RSS / input byte |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, path in cases:
        size = os.path.getsize(path)
        grep = best_grep(path, args.repeat)
        for filters in ("default", "none"):
            seconds, wall, rss = best_parse(args.bench, path, filters, args.repeat)
            print(f"| {label} | {size / 1e6:.1f} MB | {filters} | {size / 1e6 / seconds:.0f} | "
                  f"{wall * 1000:.0f} ms = {wall / grep:.2f}x ({grep * 1000:.0f} ms) | "
                  f"{rss / 1e6:.0f} MB | {rss / size:.2f} |")


if __name__ == "__main__":
    main()
