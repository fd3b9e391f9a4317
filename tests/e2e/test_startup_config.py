"""Start-up with a Compiler Explorer configuration and a warm probe cache."""

import os
import re
import shutil
import tempfile
import time
import unittest

from cexlib import CexServer

GXX = shutil.which("g++-12") or shutil.which("g++")
CLANGXX = shutil.which("clang++-14") or shutil.which("clang++")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class ConfiguredInstanceTest(unittest.TestCase):
    """A configuration in Compiler Explorer's syntax, as a self-hoster would write it."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cex-config-")
        os.chmod(self.dir, 0o755)  # sandboxed compilers run as another user and must see it
        self.bin = os.path.join(self.dir, "bin")
        os.makedirs(self.bin)
        # Twelve compilers, each through its own path, so each is probed and cached on its own.
        links = []
        for i in range(12):
            link = os.path.join(self.bin, f"g++-copy{i}")
            os.symlink(GXX, link)
            links.append(link)
        lines = [
            "# compilers of this test",
            "compilers=&mygcc:&myclang",
            "group.mygcc.compilers=" + ":".join(f"copy{i}" for i in range(12)),
            "group.mygcc.groupName=Copies of GCC",
            "group.mygcc.options=-DFROM_GROUP=1",
            "group.myclang.compilers=myclang",
            "group.myclang.compilerType=clang",
            f"compiler.myclang.exe={CLANGXX}",
            "compiler.myclang.name=My clang",
            "compiler.myclang.alias=oldclang:olderclang",
            "defaultCompiler=copy3",
        ]
        for i, link in enumerate(links):
            lines += [f"compiler.copy{i}.exe={link}", f"compiler.copy{i}.name=GCC copy {i:02d}"]
        lines.append("compiler.copy0.options=-DFIRST=1")
        lines.append("compiler.copy0.options+= -DSECOND=2  # appended, then a comment")
        write(os.path.join(self.dir, "c++.local.properties"), "\n".join(lines) + "\n")
        write(os.path.join(self.dir, "compiler-explorer.local.properties"),
              "textBanner=Served by a test\noptionsForbiddenRe=^-fno-exceptions$\n")
        self.cache = os.path.join(self.dir, "cache")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def server(self):
        return CexServer(config_dir=self.dir, cache_dir=self.cache, extra_args=["--no-discovery"])

    def listening_line(self, server):
        return next(l for l in server.log_lines if "serve listening" in l)

    def test_configured_compilers(self):
        with self.server() as server:
            compilers = server.get_json("/api/compilers/c++?fields=id,name,groupName,compilerType")
            ids = {c["id"] for c in compilers}
            self.assertEqual(ids, {f"copy{i}" for i in range(12)} | {"myclang"})
            by_id = {c["id"]: c for c in compilers}
            self.assertEqual(by_id["copy5"]["name"], "GCC copy 05")
            self.assertEqual(by_id["copy5"]["groupName"], "Copies of GCC")
            self.assertEqual(by_id["myclang"]["compilerType"], "clang")
            languages = server.get_json("/api/languages?fields=id,defaultCompiler")
            self.assertEqual(languages, [{"id": "c++", "defaultCompiler": "copy3"}])

            # Group options reach the compiler command line; a compiler's own options (with
            # `+=` appending within the file) replace them.
            source = "#if FROM_GROUP == 1\nint group() { return 1; }\n#endif\n" \
                     "#if FIRST == 1 && SECOND == 2\nint own() { return 1; }\n#endif\n"
            result = server.compile_json("copy1", {"source": source, "options": {}}).json()
            self.assertEqual(list(result["labelDefinitions"]), ["group()"])
            result = server.compile_json("copy0", {"source": source, "options": {}}).json()
            self.assertEqual(list(result["labelDefinitions"]), ["own()"])

            # An alias finds the compiler; the configured banner and option policy apply.
            text = server.compile_text("oldclang", "int f() { return 2; }").text
            self.assertTrue(text.startswith("# Served by a test\n"), text)
            r = server.compile_json("copy1", {"source": "int f();",
                                              "options": {"userArguments": "-fno-exceptions -O2"}})
            self.assertEqual(r.json()["stderr"], [{"text": "Bad options: -fno-exceptions"}])

    def test_warm_cache_starts_without_probing(self):
        with self.server() as cold:
            cold_line = self.listening_line(cold)
        self.assertRegex(cold_line, r"compilers=13 probes_run=13 probes_cached=0")

        with self.server() as warm:
            r = warm.get("/healthcheck")
            self.assertEqual(r.status, 200)
            warm_line = self.listening_line(warm)
        self.assertRegex(warm_line, r"compilers=13 probes_run=0 probes_cached=13")

    def test_changed_executable_is_probed_again(self):
        with self.server():
            pass
        # Replace one compiler's executable: its probe must run again, the others stay cached.
        os.unlink(os.path.join(self.bin, "g++-copy7"))
        os.symlink(CLANGXX, os.path.join(self.bin, "g++-copy7"))
        with self.server() as server:
            line = self.listening_line(server)
            compilers = server.get_json("/api/compilers?fields=id,version")
        self.assertRegex(line, r"probes_run=1 probes_cached=12")
        version = next(c["version"] for c in compilers if c["id"] == "copy7")
        self.assertIn("clang", version)


class DiscoveredOverrideTest(unittest.TestCase):
    def test_configured_id_overrides_discovered_one(self):
        with CexServer() as plain:
            discovered = {c["id"]: c for c in plain.get_json("/api/compilers?fields=id,name,exe")}
        gcc_id = next(i for i, c in discovered.items() if c["name"].startswith("x86-64 gcc")
                      and i.startswith("g"))
        with tempfile.TemporaryDirectory() as d:
            write(os.path.join(d, "c++.local.properties"),
                  f"compilers={gcc_id}\ncompiler.{gcc_id}.exe={GXX}\ncompiler.{gcc_id}.name=Site GCC\n")
            with CexServer(config_dir=d) as server:
                compilers = server.get_json("/api/compilers?fields=id,name")
        names = {c["id"]: c["name"] for c in compilers}
        self.assertEqual(names[gcc_id], "Site GCC")
        self.assertEqual(sum(1 for c in compilers if c["id"] == gcc_id), 1)


if __name__ == "__main__":
    unittest.main()


class ExternalDemanglerTest(unittest.TestCase):
    """A compiler's configured demangler is used instead of the in-process one."""

    SOURCE = ("namespace ns { struct S { int f(int); }; int S::f(int x) { return x + 1; } }\n"
              "int call(ns::S& s) { return s.f(2); }\n")

    def compile_with(self, demangler):
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            lines = ["compilers=gd", f"compiler.gd.exe={GXX}"]
            if demangler:
                lines.append(f"compiler.gd.demangler={demangler}")
            write(os.path.join(d, "c++.local.properties"), "\n".join(lines) + "\n")
            with CexServer(config_dir=d, extra_args=["--no-discovery"]) as server:
                body = {"source": self.SOURCE, "options": {"userArguments": "-O1"}}
                return server.compile_json("gd", body).json()

    def test_cxxfilt_matches_in_process_demangling(self):
        in_process = self.compile_with(None)
        external = self.compile_with(shutil.which("c++filt"))
        self.assertIn("ns::S::f(int)", in_process["labelDefinitions"])
        self.assertEqual(external["asm"], in_process["asm"])
        self.assertEqual(external["labelDefinitions"], in_process["labelDefinitions"])

    def test_configured_tool_is_the_one_that_runs(self):
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            tool = os.path.join(d, "shout-filt")
            # Answers every symbol with a recognisable name of its own.
            write(tool, "#!/bin/sh\nwhile read -r s; do echo \"demangled<$s>\"; done\n")
            os.chmod(tool, 0o755)
            result = self.compile_with(tool)
        self.assertIn("demangled<_ZN2ns1S1fEi>", result["labelDefinitions"])
        self.assertTrue(any("call(ns::S&)" not in l["text"] and "demangled<_Z4callRN2ns1SE>"
                            in l["text"] for l in result["asm"]))
