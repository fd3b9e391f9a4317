"""`cex compile`: the compile pipeline from a shell."""

import json
import os
import subprocess
import tempfile
import unittest

from cexlib import CEX_BIN

SQUARE = "int square(int n) {\n    return n * n;\n}\n"


class CompileCommandTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="cex-cli-")
        os.chmod(cls.dir.name, 0o711)  # the sandbox's user must reach the temp root
        cls.cache = os.path.join(cls.dir.name, "cache")
        cls.tmp = os.path.join(cls.dir.name, "tmp")
        os.makedirs(cls.tmp)
        cls.square = os.path.join(cls.dir.name, "square.cpp")
        with open(cls.square, "w") as f:
            f.write(SQUARE)
        cls.gcc = cls.gcc_id()

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    @classmethod
    def cex(cls, *args, stdin=None):
        argv = [CEX_BIN] + list(args)
        if len(args) > 1 and args[0] == "compile":
            argv += ["--cache-dir", cls.cache, "--tmp-dir", cls.tmp]
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=120)

    @staticmethod
    def gcc_id():
        # The id scheme is stable: a C++ gcc 12.2 is g122, derived here from its version.
        out = subprocess.run(["g++", "-dumpfullversion"], capture_output=True, text=True).stdout
        major, minor = out.strip().split(".")[:2]
        return f"g{major}{minor}"

    def test_prints_filtered_asm(self):
        r = self.cex("compile", "-c", self.gcc, "-O2", "-std=c++20", self.square)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0], "square(int):")
        self.assertTrue(any("imul" in l for l in lines))
        self.assertFalse(any(l.strip().startswith(".") for l in lines))
        self.assertEqual(os.listdir(self.tmp), [])

    def test_json_result(self):
        r = self.cex("compile", "-c", self.gcc, "--json", "-O1", self.square)
        self.assertEqual(r.returncode, 0, r.stderr)
        result = json.loads(r.stdout)
        self.assertEqual(result["code"], 0)
        self.assertIn("-O1", result["compilationOptions"])
        self.assertIn("square(int)", result["labelDefinitions"])

    def test_filter_flags(self):
        r = self.cex("compile", "-c", self.gcc, "--filters", "intel", self.square)
        self.assertTrue(any(l.strip().startswith(".") for l in r.stdout.splitlines()))
        r = self.cex("compile", "-c", self.gcc, "--remove-filters", "demangle", "-O2", self.square)
        self.assertEqual(r.stdout.splitlines()[0], "_Z6squarei:")
        r = self.cex("compile", "-c", self.gcc, "--add-filters", "binary", "-O2", self.square)
        self.assertIn("square(int):", r.stdout.splitlines())

    def test_exit_status_follows_the_compiler(self):
        r = self.cex("compile", "-c", self.gcc, "-", stdin="int f( {")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout.strip(), "<Compilation failed>")
        self.assertIn("<source>:1:", r.stderr)
        self.assertNotIn("\x1b[", r.stderr)  # no colours on a pipe

    def test_errors_of_the_command_itself(self):
        r = self.cex("compile", "-c", "nosuchcompiler", self.square)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown compiler", r.stderr)
        r = self.cex("compile", "-c", self.gcc, "-O2")
        self.assertEqual(r.returncode, 2)
        r = self.cex("compile", "-c", self.gcc, "-fplugin=evil.so", self.square)
        self.assertEqual(r.returncode, 2)
        self.assertIn("Bad options: -fplugin=evil.so", r.stderr)


if __name__ == "__main__":
    unittest.main()
