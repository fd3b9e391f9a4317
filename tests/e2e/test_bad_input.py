"""Bad input and misbehaving compilers: each gets a clear answer, nothing crashes, nothing is
left behind (the harness checks the temp root on exit), and the next request still works."""

import itertools
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest
import uuid

from cexlib import CexServer, RawHttpClient, first_compiler, format_request, wait_until

SQUARE = "int square(int n) {\n    return n * n;\n}\n"
GARBAGE = bytes(range(256)) * 4
EMPTY_SOURCE_MESSAGE = "<File {} has no content or file is missing>"
KILLED = "Killed - processing time exceeded"
MIB = 1024 * 1024

# Each still-serving check compiles a new function so that no cached result can answer it.
_fresh = itertools.count()


def compile_path(compiler):
    return f"/api/compiler/{compiler}/compile"


def post_json(server, compiler, body, accept="application/json"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return server.request("POST", compile_path(compiler), body=data,
                          headers={"Content-Type": "application/json", "Accept": accept})


def valid_json(test, response):
    """The body as JSON, after checking that it is valid UTF-8."""
    text = response.body.decode("utf-8")  # raises on invalid UTF-8
    test.assertIn("application/json", response.header("content-type"))
    return json.loads(text)


class ServingTest(unittest.TestCase):
    """After each test the server is alive and a real compile still works."""

    server = None
    gcc = None

    def tearDown(self):
        self.assert_still_serving()

    def assert_still_serving(self):
        self.assertTrue(self.server.alive(), "cex serve died")
        n = next(_fresh)
        body = {"source": f"int still_serving_{n}(int x) {{ return x + {n}; }}\n", "options": {}}
        r = post_json(self.server, self.gcc, body)
        self.assertEqual(r.status, 200, r.body[:300])
        result = r.json()
        self.assertEqual(result["code"], 0, result["stderr"])
        self.assertIn(f"still_serving_{n}(int):", [l["text"] for l in result["asm"]])

    def wait_for_empty_temp_root(self, timeout):
        empty = wait_until(lambda: not os.listdir(self.server.tmp_root), timeout)
        self.assertTrue(empty, os.listdir(self.server.tmp_root))


class BadRequestTest(ServingTest):
    @classmethod
    def setUpClass(cls):
        cls.server = CexServer()
        cls.server.start()
        cls.gcc = first_compiler(cls.server, "c++", "gcc")
        cls.cc = first_compiler(cls.server, "c", "gcc")

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def test_malformed_json(self):
        for body in (b"{bad", b'{"source": "int x;", "options": {}', b'{"source": "x", '
                     b'"options": {}} trailing', b""):
            with self.subTest(body=body):
                r = post_json(self.server, self.gcc, body)
                self.assertEqual(r.status, 400)
                self.assertIn("JSON", r.text)

    def test_missing_fields(self):
        for body, message in (({"source": SQUARE}, "Missing options property"),
                              ({"options": {}}, "Missing source property")):
            with self.subTest(body=body):
                r = post_json(self.server, self.gcc, body)
                self.assertEqual(r.status, 400)
                self.assertEqual(valid_json(self, r), {"error": True, "message": message})

    def test_unknown_compiler(self):
        r = post_json(self.server, "nosuchcompiler", {"source": SQUARE, "options": {}})
        self.assertEqual((r.status, r.text), (404, "Not Found"))
        r = self.server.compile_text("nosuchcompiler", SQUARE)
        self.assertEqual((r.status, r.text), (404, "Not Found"))

    def test_unknown_language(self):
        self.assertEqual(self.server.get_json("/api/compilers/nosuchlang"), [])
        self.assertEqual(self.server.get_json("/api/libraries/nosuchlang"), [])

    def test_empty_source(self):
        for compiler, filename in ((self.gcc, "example.cpp"), (self.cc, "example.c")):
            with self.subTest(compiler=compiler):
                r = post_json(self.server, compiler, {"source": "", "options": {}})
                self.assertEqual(r.status, 200)
                result = valid_json(self, r)
                message = EMPTY_SOURCE_MESSAGE.format(filename)
                self.assertEqual(result["code"], -1)
                self.assertEqual([l["text"] for l in result["asm"]], [message])
                self.assertEqual([l["text"] for l in result["stderr"]], [message])

    def send_oversized(self, head, body_chunks):
        """Sends a request whose body exceeds the limit, stopping as soon as the server answers
        or closes, and returns the response."""
        client = RawHttpClient(self.server.port, timeout=30)
        try:
            client.send(head)
            for chunk in body_chunks:
                if select.select([client.sock], [], [], 0)[0]:
                    break  # the server has answered early
                try:
                    client.send(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
            return client.read_response()
        finally:
            client.close()

    def test_twenty_megabyte_body(self):
        size = 20 * MIB
        piece = b"x" * 65536
        head = format_request("POST", compile_path(self.gcc),
                              [("Host", "localhost"), ("Content-Type", "application/json"),
                               ("Content-Length", str(size))])
        r = self.send_oversized(head, (piece for _ in range(size // len(piece))))
        self.assertEqual(r.status, 413)
        self.assertIn(b"Payload Too Large", r.body)

    def test_twenty_megabyte_chunked_body(self):
        piece = b"x" * 65536
        chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
        head = format_request("POST", compile_path(self.gcc),
                              [("Host", "localhost"), ("Content-Type", "application/json"),
                               ("Transfer-Encoding", "chunked")])
        r = self.send_oversized(head, (chunk for _ in range(20 * MIB // len(piece))))
        self.assertEqual(r.status, 413)

    def test_one_megabyte_source_on_one_line(self):
        declarations = (f"int v{i} = {i};" for i in itertools.count())
        source = ""
        for declaration in declarations:
            if len(source) >= MIB:
                break
            source += declaration
        r = post_json(self.server, self.gcc, {"source": source, "options": {}})
        self.assertEqual(r.status, 200)
        result = valid_json(self, r)
        if result["code"] == 0:
            self.assertIn("v1:", [l["text"] for l in result["asm"]])
        else:
            self.assertTrue(result["stderr"])

    def test_binary_garbage_as_text_body(self):
        for content_type in ("text/plain", "application/x-www-form-urlencoded"):
            with self.subTest(content_type=content_type):
                r = self.server.compile_text(self.gcc, GARBAGE, content_type=content_type)
                self.assertEqual(r.status, 200)
                self.assertTrue(r.body.startswith(b"# Compilation provided by"), r.body[:100])
                r = self.server.compile_text(self.gcc, GARBAGE, content_type=content_type,
                                             accept="application/json")
                self.assertEqual(r.status, 200)
                self.assertNotEqual(valid_json(self, r)["code"], 0)

    def test_binary_garbage_as_json_string(self):
        body = {"source": GARBAGE.decode("latin-1"), "options": {}}
        r = post_json(self.server, self.gcc, body)
        self.assertEqual(r.status, 200)
        result = valid_json(self, r)
        self.assertNotEqual(result["code"], 0)
        self.assertTrue(result["stderr"])

    def test_binary_garbage_as_json_body(self):
        r = post_json(self.server, self.gcc, GARBAGE)
        self.assertEqual(r.status, 400)
        self.assertIn("JSON", r.text)

    def test_invalid_utf8_in_text_source(self):
        source = b'const char* s = "\xff\xc0\xed\xa0\x80";\nint y = \xff;\n'
        r = self.server.compile_text(self.gcc, source, accept="application/json")
        self.assertEqual(r.status, 200)
        result = valid_json(self, r)
        self.assertNotEqual(result["code"], 0)
        self.assertTrue([l for l in result["stderr"] if l.get("tag", {}).get("line") == 2])

    def test_invalid_utf8_in_json_source(self):
        body = b'{"source": "int x; // \xff\xfe\xc3( comment\\nint y = 1;\\n", "options": {}}'
        r = post_json(self.server, self.gcc, body)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(valid_json(self, r)["code"], 0)

    def test_lone_surrogate_escape_in_json_source(self):
        body = '{"source": "int x; // \\udcff comment\\n", "options": {}}'
        r = post_json(self.server, self.gcc, body)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(valid_json(self, r)["code"], 0)

    def test_forbidden_flags(self):
        escaped = os.path.join(self.server.workdir, "escaped.o")
        cases = [("-fplugin=x", "-fplugin=x"), ("@file", "@file"), (f"-o {escaped}", "-o"),
                 ("-B/tmp", "-B/tmp"), ("-specs=x", "-specs=x"),
                 ("-Wl,-T,/etc/passwd", "-Wl,-T,/etc/passwd")]
        for arguments, reported in cases:
            with self.subTest(arguments=arguments):
                body = {"source": "int main() { return 0; }\n",
                        "options": {"userArguments": arguments}}
                r = post_json(self.server, self.gcc, body)
                self.assertEqual(r.status, 200)
                self.assertEqual(valid_json(self, r), {"code": -1, "stdout": [], "stderr": [
                    {"text": "Bad options: " + reported}]})
        self.assertFalse(os.path.exists(escaped))
        # Text clients get the same refusal.
        r = self.server.compile_text(self.gcc, SQUARE, "options=-fplugin%3Dx")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["stderr"], [{"text": "Bad options: -fplugin=x"}])

    def test_client_drops_connection_mid_request(self):
        request = format_request("POST", compile_path(self.gcc),
                                 [("Host", "localhost"), ("Content-Type", "application/json"),
                                  ("Content-Length", "1000")], b'{"source": "int')
        for cut in (0, 10, request.index(b"\r\n\r\n"), len(request)):
            with self.subTest(sent=cut):
                sock = socket.create_connection(("127.0.0.1", self.server.port))
                sock.sendall(request[:cut])
                sock.close()
        self.assertTrue(self.server.alive())

    def test_malformed_http(self):
        head = "POST /api/compiler/{}/compile HTTP/1.1\r\nHost: x\r\n".format(self.gcc).encode()
        cases = [
            (b"GET /api/languages?" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431),
            (b"GET /api/languages HTTP/1.1\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n", 431),
            (b"GARBAGE\r\n\r\n", 400),
            (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(100) + b"\r\n\r\n", 400),
            (head + b"Content-Length: -5\r\n\r\n", 400),
            (head + b"Content-Length: 99999999999999999999999\r\n\r\n", 400),
            (head + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ]
        for request, status in cases:
            with self.subTest(request=request[:40]):
                client = RawHttpClient(self.server.port, timeout=10)
                try:
                    client.send(request)
                    self.assertEqual(client.read_response().status, status)
                finally:
                    client.close()

    def test_stalled_clients_do_not_block_others(self):
        stalled = [socket.create_connection(("127.0.0.1", self.server.port)) for _ in range(8)]
        try:
            # Half of them stop inside a request body, the others never send anything.
            for sock in stalled[:4]:
                sock.sendall(format_request("POST", compile_path(self.gcc),
                                            [("Host", "x"), ("Content-Length", "100")], b"{"))
            r = self.server.request("GET", "/api/languages", timeout=10)
            self.assertEqual(r.status, 200)
            self.assert_still_serving()
        finally:
            for sock in stalled:
                sock.close()

    def test_client_drops_connection_mid_compile(self):
        body = json.dumps({"source": "#include <vector>\n#include <map>\n" + SQUARE,
                           "options": {"userArguments": "-O2"}}).encode()
        request = format_request("POST", compile_path(self.gcc),
                                 [("Host", "localhost"), ("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))], body)
        sock = socket.create_connection(("127.0.0.1", self.server.port))
        sock.sendall(request)
        wait_until(lambda: os.listdir(self.server.tmp_root), 5, interval=0.005)
        sock.close()
        self.wait_for_empty_temp_root(30)

    def test_many_concurrent_compiles(self):
        results = {}

        def compile_one(i):
            body = {"source": f"int concurrent_{i}(int x) {{ return x * {i + 2}; }}\n",
                    "options": {"userArguments": "-O1"}}
            r = post_json(self.server, self.gcc, body)
            results[i] = (r.status, r.json() if r.status == 200 else r.body)

        threads = [threading.Thread(target=compile_one, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(sorted(results), list(range(20)))
        for i, (status, result) in results.items():
            self.assertEqual(status, 200, result)
            self.assertEqual(result["code"], 0, result["stderr"])
            # Each answer belongs to its own request.
            self.assertIn(f"concurrent_{i}(int):", [l["text"] for l in result["asm"]])


# Answers the probes of discovery like gcc, then misbehaves on a real compile. MARKER makes
# every process it starts findable with `pgrep -f`.
FAKE_COMPILER = """#!/bin/sh
case "$1" in
  --version) echo "g++ (Fake) 12.2.0"; exit 0;;
  -dumpmachine) echo "x86_64-linux-gnu"; exit 0;;
esac
for arg in "$@"; do [ "$arg" = -fsyntax-only ] && exit 0; done
{misbehaviour}
"""
HANG = """sh -c 'while :; do sleep 1; done' {marker}-child &
while :; do sleep 1; done"""
FLOOD = """yes "{marker}: this line fills the standard error stream" | head -c 3000000 >&2
exit 1"""


class MisbehavingCompilerTest(ServingTest):
    """Compilers configured with `--config`: one never finishes, one floods stderr."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="cex-misbehaving-")
        os.chmod(cls.workdir, 0o755)  # the fake compilers run in the sandbox as another user
        cls.marker = "cexfake" + uuid.uuid4().hex[:12]
        # The marker names only the scripts' folder, not the config dir on cex's command line.
        bin_dir = os.path.join(cls.workdir, "bin-" + cls.marker)
        config_dir = os.path.join(cls.workdir, "config")
        os.makedirs(bin_dir)
        os.makedirs(config_dir)
        exes = {}
        for name, misbehaviour in (("hang", HANG), ("flood", FLOOD)):
            exes[name] = os.path.join(bin_dir, name + ".sh")
            with open(exes[name], "w") as f:
                f.write(FAKE_COMPILER.format(misbehaviour=misbehaviour.format(marker=cls.marker)))
            os.chmod(exes[name], 0o755)
        real_gcc = shutil.which("g++-12") or shutil.which("g++")
        with open(os.path.join(config_dir, "c++.local.properties"), "w") as f:
            f.write("compilers=hang:flood:realgcc\n"
                    f"compiler.hang.exe={exes['hang']}\n"
                    f"compiler.flood.exe={exes['flood']}\n"
                    f"compiler.realgcc.exe={real_gcc}\n")
        with open(os.path.join(config_dir, "compiler-explorer.local.properties"), "w") as f:
            f.write("compileTimeoutMs=2000\n")
        cls.server = CexServer(config_dir=config_dir, extra_args=["--no-discovery"])
        cls.server.start()
        cls.gcc = "realgcc"

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.__exit__(None, None, None)
        finally:
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def marked_processes(self):
        run = subprocess.run(["pgrep", "-af", self.marker], capture_output=True, text=True)
        return run.stdout.strip()

    def assert_no_process_left(self, timeout=5):
        left = wait_until(lambda: not self.marked_processes(), timeout)
        self.assertTrue(left, "still running:\n" + self.marked_processes())

    def test_hanging_compiler_is_killed(self):
        body = {"source": SQUARE, "options": {}}
        r = post_json(self.server, "hang", body)
        self.assertEqual(r.status, 200)
        result = valid_json(self, r)
        self.assertIs(result["timedOut"], True)
        self.assertIs(result["okToCache"], False)
        self.assertEqual(result["stderr"][-1]["text"], KILLED)
        self.assertEqual([l["text"] for l in result["asm"]], ["<Compilation failed>"])
        self.assertGreaterEqual(result["execTime"], 2000)
        self.assert_no_process_left()
        # A timed-out result is not cached: the same request runs (and times out) again.
        again = post_json(self.server, "hang", body).json()
        self.assertNotIn("retreivedFromCache", again)
        self.assertIs(again["timedOut"], True)
        self.assert_no_process_left()

    def test_flooding_compiler_is_truncated(self):
        r = post_json(self.server, "flood", {"source": SQUARE, "options": {}})
        self.assertEqual(r.status, 200)
        result = valid_json(self, r)
        self.assertIs(result["truncated"], True)
        texts = [l["text"] for l in result["stderr"]]
        self.assertEqual(texts[-1], "[Truncated]")
        size = sum(len(t) + 1 for t in texts)
        self.assertLess(abs(size - MIB), 64 * 1024, size)
        self.assertEqual([l["text"] for l in result["asm"]], ["<Compilation failed>"])
        self.assert_no_process_left()

    def test_client_drops_connection_mid_compile(self):
        body = json.dumps({"source": SQUARE + "// dropped\n", "options": {}}).encode()
        request = format_request("POST", compile_path("hang"),
                                 [("Host", "localhost"), ("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))], body)
        sock = socket.create_connection(("127.0.0.1", self.server.port))
        sock.sendall(request)
        started = wait_until(self.marked_processes, 5)
        sock.close()
        self.assertTrue(started, "the hanging compiler did not start")
        # Whether cex stops the compile when the client goes or at its time limit, it stops.
        self.assert_no_process_left(timeout=10)
        self.wait_for_empty_temp_root(10)


if __name__ == "__main__":
    unittest.main()
