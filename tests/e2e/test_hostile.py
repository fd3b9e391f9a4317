"""Hostile programs and compiles through the API, with cex as root and as an unprivileged user.

Each case must be contained, answered with the right result, leak nothing, leave nothing
running, and leave the server serving.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import uuid

from cexlib import CexServer, first_compiler

NOBODY = (65534, 65534)


def c_program(body, includes=("stdio.h", "stdlib.h", "string.h", "unistd.h")):
    head = "".join(f"#include <{h}>\n" for h in includes)
    return head + "int main(int argc, char** argv) {\n" + body + "\n}\n"


def processes_with(marker):
    out = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout
    return [pid for pid in out.split() if int(pid) != os.getpid()]


class HostileCases:
    """The cases; subclasses choose who cex runs as."""

    RUN_AS = None

    @classmethod
    def setUpClass(cls):
        cls.secret = "cexsecret" + uuid.uuid4().hex
        cls.config = tempfile.mkdtemp(prefix="cex-hostile-config-")
        os.chmod(cls.config, 0o755)
        with open(os.path.join(cls.config, "compiler-explorer.local.properties"), "w") as f:
            f.write(f"# {cls.secret}\nbinaryExecTimeoutMs=3000\ncompileTimeoutMs=15000\n")
        cls.server = CexServer(config_dir=cls.config, run_as=cls.RUN_AS)
        # Secrets where a program might look: cex's cache dir and the temp root.
        os.makedirs(cls.server.cache_dir, exist_ok=True)
        for folder in (cls.server.cache_dir, cls.server.tmp_root):
            with open(os.path.join(folder, "secret.txt"), "w") as f:
                f.write(cls.secret)
        if cls.RUN_AS:
            os.chown(cls.server.cache_dir, *cls.RUN_AS)
        cls.server.start()
        cls.cc = first_compiler(cls.server, "c", "gcc")
        cls.cxx = first_compiler(cls.server, "c++", "gcc")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        for folder in (cls.server.cache_dir, cls.server.tmp_root):
            path = os.path.join(folder, "secret.txt")
            if os.path.exists(path):
                os.unlink(path)
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.config, ignore_errors=True)

    def tearDown(self):
        # The server keeps serving after every case.
        self.assertTrue(self.server.alive())
        r = self.server.compile_json(self.cc, {"source": "int ok(void) { return 1; }",
                                               "options": {"userArguments": "-O1"}})
        self.assertEqual(r.json()["code"], 0)

    def run_program(self, source, compiler=None, **params):
        body = {"source": source,
                "options": {"compilerOptions": {"executorRequest": True},
                            "filters": {"execute": True},
                            "executeParameters": {"args": params.get("args", []),
                                                  "stdin": params.get("stdin", "")}},
                "bypassCache": 1}
        r = self.server.compile_json(compiler or self.cc, body, content_type="application/json")
        self.assertEqual(r.status, 200, r.body[:300])
        result = r.json()
        self.assertEqual(result["buildResult"]["code"], 0, result["buildResult"]["stderr"])
        self.assertIs(result["didExecute"], True)
        return result

    def text_of(self, result):
        return "\n".join(l["text"] for l in result["stdout"] + result["stderr"])

    def assert_no_secret(self, result):
        self.assertNotIn(self.secret, str(result))

    def test_fork_bomb(self):
        result = self.run_program(c_program("for (;;) fork();"))
        self.assertTrue(result["timedOut"] or result["code"] != 0)
        self.assertFalse(processes_with(self.server.tmp_root + "/cex-compile"))

    def test_memory_balloon(self):
        source = c_program("size_t total = 0;\n"
                           "for (;;) { char* p = malloc(1 << 20); if (!p) { printf(\"refused at %zu MiB\\n\", total);"
                           " return 3; } memset(p, 1, 1 << 20); total++; }")
        result = self.run_program(source)
        text = self.text_of(result)
        self.assertTrue(result["code"] == 3 or "out of memory" in text or result["code"] == -1, text)
        if result["code"] == 3:
            mib = int(text.split("refused at ")[1].split()[0])
            self.assertLess(mib, 400)

    def test_infinite_loop_and_sleep_past_the_timeout(self):
        for body in ("for (;;) {}", "sleep(100); return 0;"):
            started = time.monotonic()
            result = self.run_program(c_program(body))
            self.assertIs(result["timedOut"], True)
            self.assertEqual(result["stderr"][-1]["text"], "Killed - processing time exceeded")
            self.assertLess(time.monotonic() - started, 15)

    def test_output_flood(self):
        result = self.run_program(c_program("for (;;) puts(\"flood flood flood\");"))
        self.assertIs(result["truncated"], True)
        self.assertLess(sum(len(l["text"]) for l in result["stdout"]), 33 * 1024)

    def test_filling_tmp_and_the_working_dir(self):
        fill = ("FILE* f = fopen(argv[1], \"w\"); if (!f) { puts(\"cannot open\"); return 2; }\n"
                "char buf[65536]; memset(buf, 'x', sizeof buf); size_t n = 0;\n"
                "while (fwrite(buf, 1, sizeof buf, f) == sizeof buf && fflush(f) == 0) n++;\n"
                "printf(\"stopped after %zu KiB\\n\", n * 64); return 0;")
        for target in ("/tmp/fill", "fill"):
            result = self.run_program(c_program(fill), args=[target])
            text = self.text_of(result)
            # Stopped by the tmpfs size or the file-size limit: an error or SIGXFSZ.
            self.assertTrue("stopped after" in text or "SIGXFSZ" in text, text)
            if "stopped after" in text:
                self.assertLess(int(text.split("stopped after ")[1].split()[0]), 64 * 1024)
        free_mib = shutil.disk_usage(self.server.tmp_root).free >> 20
        self.assertGreater(free_mib, 100)

    def test_reading_host_secrets(self):
        paths = ["/etc/shadow", "/root/.ssh/id_rsa", "/root/.bash_history", "/home",
                 os.path.join(self.config, "compiler-explorer.local.properties"),
                 os.path.join(self.server.cache_dir, "secret.txt"),
                 os.path.join(self.server.tmp_root, "secret.txt")]
        source = c_program("for (int i = 1; i < argc; ++i) {\n"
                           "  FILE* f = fopen(argv[i], \"r\"); char buf[256] = {0};\n"
                           "  if (f && fread(buf, 1, sizeof buf - 1, f) > 0) printf(\"READ %s: %s\\n\", argv[i], buf);\n"
                           "  else printf(\"denied %s\\n\", argv[i]);\n}")
        result = self.run_program(source, args=paths)
        self.assert_no_secret(result)
        self.assertNotIn("READ", self.text_of(result))

    def test_network_is_absent(self):
        source = c_program(
            "int s = socket(AF_INET, SOCK_STREAM, 0); struct sockaddr_in a = {0};\n"
            "a.sin_family = AF_INET; a.sin_port = htons(atoi(argv[1]));\n"
            "a.sin_addr.s_addr = htonl(0x7f000001);\n"
            "if (connect(s, (struct sockaddr*)&a, sizeof a) == 0) { puts(\"CONNECTED\"); return 0; }\n"
            "perror(\"connect\"); return 1;",
            includes=("stdio.h", "stdlib.h", "sys/socket.h", "netinet/in.h", "arpa/inet.h"))
        result = self.run_program(source, args=[str(self.server.port)])
        self.assertNotIn("CONNECTED", self.text_of(result))
        self.assertEqual(result["code"], 1)

    def test_killing_the_parent_and_everything(self):
        source = c_program("kill(getppid(), SIGKILL); kill(-1, SIGKILL); kill(1, SIGKILL);"
                           " puts(\"still here\"); return 0;",
                           includes=("stdio.h", "signal.h", "unistd.h"))
        self.run_program(source)
        self.assertTrue(self.server.alive())

    def test_ptrace_is_denied(self):
        source = c_program("if (ptrace(PTRACE_TRACEME, 0, 0, 0) == 0) { puts(\"TRACED\"); return 0; }\n"
                           "if (ptrace(PTRACE_ATTACH, getppid(), 0, 0) == 0) { puts(\"ATTACHED\"); return 0; }\n"
                           "puts(\"denied\"); return 1;",
                           includes=("stdio.h", "sys/ptrace.h", "unistd.h"))
        result = self.run_program(source)
        self.assertEqual(result["stdout"], [{"text": "denied"}])

    def test_setuid_gains_nothing(self):
        source = c_program("if (setuid(0) == 0) { puts(\"ROOT\"); return 0; }\n"
                           "execl(\"/usr/bin/passwd\", \"passwd\", \"-S\", \"root\", (char*)0);\n"
                           "printf(\"uid %d euid %d\\n\", getuid(), geteuid()); return 1;")
        result = self.run_program(source)
        self.assertNotIn("ROOT", self.text_of(result))
        self.assertNotIn("root P", self.text_of(result))  # passwd -S output for root

    def test_daemon_does_not_outlive_the_run(self):
        marker = "cexdaemon" + uuid.uuid4().hex[:10]
        source = c_program(
            "if (fork() == 0) { setsid(); if (fork() == 0) {\n"
            "  execl(\"/bin/sh\", \"sh\", \"-c\", argv[1], (char*)0); } _exit(0); }\n"
            "puts(\"parent done\"); return 0;",
            includes=("stdio.h", "unistd.h"))
        result = self.run_program(source, args=[f"sleep 30; echo {marker}"])
        self.assertEqual(result["stdout"], [{"text": "parent done"}])
        for _ in range(50):
            if not processes_with(marker):
                break
            time.sleep(0.1)
        self.assertEqual(processes_with(marker), [])

    def test_includes_of_host_files(self):
        host_only = [l.split(":")[0] for l in open("/etc/passwd") if l.count(":") >= 6]
        cases = [
            ({"source": '#include "/etc/passwd"\n', "options": {}}, "passwd"),
            ({"source": "int x;\n", "options": {"userArguments": "-include /etc/shadow"}}, "shadow"),
            ({"source": 'asm(".incbin \\"/etc/shadow\\"");\nint main() { return 0; }\n',
              "options": {"filters": {"binaryObject": True}}}, "incbin"),
        ]
        for body, name in cases:
            with self.subTest(name):
                result = self.server.compile_json(self.cc, body).json()
                text = str(result)
                self.assertNotIn("daemon:x:1:1", text)
                self.assertNotIn("$y$", text)  # shadow hashes
                self.assertNotIn("$6$", text)
                if name != "passwd":
                    self.assertNotEqual(result["code"], 0)
        self.assertTrue(host_only)

    def test_files_cannot_escape_or_be_followed_out(self):
        for name in ("../escape.h", "/etc/cex-escape.h", "a/../../escape.h"):
            body = {"source": "int x;", "options": {}, "files": [{"filename": name, "contents": "x"}]}
            result = self.server.compile_json(self.cc, body).json()
            self.assertEqual(result["code"], -1)
            self.assertIn("<Invalid filename>", str(result["stderr"]))
        self.assertFalse(os.path.exists("/etc/cex-escape.h"))
        # A symlink the program makes out of its directory leads nowhere useful.
        source = c_program("symlink(\"/etc/shadow\", \"out\"); FILE* f = fopen(\"out\", \"r\");\n"
                           "puts(f ? \"OPENED\" : \"denied\"); return 0;")
        result = self.run_program(source)
        self.assertEqual(result["stdout"], [{"text": "denied"}])

    def test_serves_as_the_intended_user_in_a_sandbox(self):
        uid = os.stat(f"/proc/{self.server.proc.pid}").st_uid
        self.assertEqual(uid, self.RUN_AS[0] if self.RUN_AS else 0)
        ready = [l for l in self.server.log_lines if "sandbox ready" in l]
        self.assertTrue(ready and "mode=bwrap" in ready[0], self.server.log_lines[:5])

    def test_nothing_left_in_the_temp_root(self):
        self.run_program(c_program("puts(\"hi\"); return 0;"))
        left = [n for n in os.listdir(self.server.tmp_root) if n != "secret.txt"]
        self.assertEqual(left, [])


class HostileAsRootTest(HostileCases, unittest.TestCase):
    RUN_AS = None


@unittest.skipUnless(shutil.which("setpriv"), "setpriv (util-linux) is needed to drop privileges")
class HostileAsUnprivilegedUserTest(HostileCases, unittest.TestCase):
    RUN_AS = NOBODY


if __name__ == "__main__":
    unittest.main()


class FailClosedTest(unittest.TestCase):
    """Without a working sandbox cex says why and refuses to run anything."""

    def test_start_fails_without_bubblewrap(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "compiler-explorer.local.properties"), "w") as f:
                f.write("sandbox.bwrap=/nonexistent/bwrap\n")
            from cexlib import CEX_BIN
            r = subprocess.run([CEX_BIN, "serve", "--port", "0", "--config", d,
                                "--cache-dir", os.path.join(d, "cache"), "--tmp-dir", d],
                               capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("sandbox bwrap cannot run here", r.stderr)
        self.assertIn("/nonexistent/bwrap", r.stderr)
        self.assertNotIn("serve listening", r.stderr)
