"""Every instruction of an -O2 -g compile carries the source line its .loc data gives."""

import os
import re
import subprocess
import tempfile
import unittest

from cexlib import CexServer, first_compiler

FILE_RE = re.compile(r'^\s*\.file\s+(\d+)\s+"([^"]*)"(?:\s+"([^"]*)")?')
LOC_RE = re.compile(r"^\s*\.loc\s+(\d+)\s+(\d+)(?:\s+(\d+))?")
END_BLOCK_RE = re.compile(r"\.cfi_endproc|\.data\b|\.text\b|\.section\b")
LABEL_RE = re.compile(r'^[.\w$@"]+:')


def generate_source(functions=24):
    """About three hundred lines of C++ over <vector> and <algorithm>."""
    parts = ["#include <algorithm>", "#include <numeric>", "#include <vector>", ""]
    for i in range(functions):
        parts += [
            f"int work{i}(std::vector<int>& v, int k) {{",
            f"    std::sort(v.begin(), v.end());",
            f"    auto it = std::lower_bound(v.begin(), v.end(), k + {i});",
            f"    v.erase(std::unique(v.begin(), v.end()), v.end());",
            f"    std::transform(v.begin(), v.end(), v.begin(),",
            f"                   [k](int x) {{ return x * {i + 2} + k; }});",
            f"    int total = std::accumulate(v.begin(), v.end(), {i});",
            f"    if (it != v.end()) {{",
            f"        total += static_cast<int>(std::count(v.begin(), v.end(), k));",
            f"    }}",
            f"    return total;",
            f"}}",
            "",
        ]
    parts += [
        "int driver(int n) {",
        "    std::vector<int> v;",
        "    for (int i = 0; i < n; ++i) v.push_back((i * 7919) % 1000);",
        "    int s = 0;",
    ]
    parts += [f"    s += work{i}(v, n);" for i in range(functions)]
    parts += ["    return s;", "}", ""]
    return "\n".join(parts)


def reference_sources(listing, main_name):
    """The source of each instruction in a raw listing, following .file/.loc the plain way."""
    files = {}
    current = None
    out = []
    for line in listing.split("\n"):
        m = FILE_RE.match(line)
        if m:
            num, first, second = m.groups()
            name = first if second is None else (second if second.startswith("/") else f"{first}/{second}")
            files[num] = name
            continue
        m = LOC_RE.match(line)
        if m:
            num, ln, col = m.groups()
            name = files.get(num)
            if name is not None:
                f = None if os.path.basename(name) == main_name else name
                current = (f, int(ln))
            continue
        if END_BLOCK_RE.search(line):
            current = None
        stripped = line.strip()
        if not stripped or stripped.startswith((".", "#")) or LABEL_RE.match(line):
            continue
        if line[:1] in (" ", "\t") and stripped[0].isalpha():
            out.append((stripped.split()[0], current))
    return out


class LineMappingTest(unittest.TestCase):
    def check_compiler(self, server, compiler_id):
        source = generate_source()
        self.assertGreater(source.count("\n"), 250)
        body = {"source": source,
                "options": {"userArguments": "-O2", "filters": {"demangle": False}}}
        result = server.compile_json(compiler_id, body).json()
        self.assertEqual(result["code"], 0, result["stderr"])

        exe = next(c["exe"] for c in server.get_json("/api/compilers?fields=id,exe")
                   if c["id"] == compiler_id)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "example.cpp"), "w") as f:
                f.write(source)
            args = [os.path.join(d, a) if a in ("output.s", "example.cpp") else a
                    for a in result["compilationOptions"]]
            subprocess.run([exe] + args, cwd=d, check=True, capture_output=True)
            with open(os.path.join(d, "output.s")) as f:
                expected = reference_sources(f.read(), "example.cpp")

        got = []
        for line in result["asm"]:
            text = line["text"]
            stripped = text.strip()
            if stripped and text[:1] in (" ", "\t") and stripped[0].isalpha():
                src = line["source"]
                got.append((stripped.split()[0], None if src is None else (src["file"], src["line"])))
        self.assertGreater(len(expected), 500)
        self.assertEqual(len(got), len(expected))
        mismatches = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected)) if g != e]
        self.assertEqual(mismatches[:5], [])
        self.assertTrue(all(src is not None for _, src in got), "an instruction without a source")
        self.assertTrue(any(src[0] is not None and "stl_" in src[0] for _, src in got),
                        "inlined library code should point at its header")

    def test_gcc_and_clang(self):
        with CexServer() as server:
            self.check_compiler(server, first_compiler(server, "c++", "gcc"))
            self.check_compiler(server, first_compiler(server, "c++", "clang"))


if __name__ == "__main__":
    unittest.main()
