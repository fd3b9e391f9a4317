"""Helpers for tests of a deployment on one machine: a real nats-server with JetStream, and
`cex events`, `cex router` and `cex worker` processes that talk through it."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from cexlib import CEX_BIN, CexServer, _die_with_parent

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_accepting(port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class NatsServer:
    """nats-server on loopback with JetStream storing in `store_dir`; restartable on its port."""

    def __init__(self, store_dir):
        self.store_dir = store_dir
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.port}"

    def start(self):
        log = open(os.path.join(self.store_dir, "nats-server.log"), "ab")
        self.proc = subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", self.store_dir],
            stdout=log, stderr=log, preexec_fn=_die_with_parent)
        log.close()
        if not wait_accepting(self.port, 10):
            raise AssertionError("nats-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Role(CexServer):
    """One `cex <role>` process. It is a CexServer for the HTTP helpers; it waits for the
    role's own `listening` line instead of serve's."""

    def __init__(self, role, args, workdir, name):
        self.role = role
        self.name = name
        self.workdir = workdir
        self.args = [CEX_BIN, role] + list(args)
        self.env = dict(os.environ)
        self.start_timeout = 60
        self.log_lines = []
        self.proc = None
        self.port = None
        self.pinned_port = None
        self.listening = re.compile(role + r" listening url=(?:http|ws)://[^:/]+:(\d+)/")

    def start(self):
        self.port = None
        self.log_lines = []
        self.proc = subprocess.Popen(self.args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     env=self.env, preexec_fn=_die_with_parent)
        ready = threading.Event()

        def pump(proc=self.proc, lines=self.log_lines):
            for raw in proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                lines.append(line)
                m = self.listening.search(line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(self.start_timeout) or self.port is None:
            self.stop()
            raise AssertionError(f"cex {self.role} did not start:\n" + "\n".join(self.log_lines))
        return self

    def kill(self):
        """SIGKILL: the process gets no chance to clean up."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stderr.close()

    def lines(self, pattern):
        regex = re.compile(pattern)
        return [line for line in list(self.log_lines) if regex.search(line)]

    def __exit__(self, *exc):
        self.stop()


class Cluster:
    """A deployment on loopback: nats-server, then roles added by the test. Everything is
    stopped, and its directory removed, on exit."""

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="cex-cluster-")
        # Sandboxed compilers run as an unprivileged user and must reach the temp roots.
        os.chmod(self.workdir, 0o711)
        os.makedirs(os.path.join(self.workdir, "nats"))
        self.nats = NatsServer(os.path.join(self.workdir, "nats"))
        self.roles = []
        self.cache_dir = os.path.join(self.workdir, "probe-cache")

    def __enter__(self):
        self.nats.start()
        return self

    def __exit__(self, *exc):
        for role in reversed(self.roles):
            role.stop()
        self.nats.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _role(self, role, args, name):
        r = Role(role, args, self.workdir, name)
        self.roles.append(r)
        return r.start()

    def events(self, port=None, name="events"):
        port = port or free_port()
        return self._role("events", ["--host", "127.0.0.1", "--port", str(port),
                                     "--nats", self.nats.url], name)

    def router(self, events, env="prod", port=0, extra=(), name=None):
        args = ["--env", env, "--host", "127.0.0.1", "--port", str(port), "--nats", self.nats.url,
                "--events", f"ws://127.0.0.1:{events.port}/{env}"] + list(extra)
        return self._role("router", args, name or f"router-{env}")

    def worker(self, events, env="prod", colour="blue", extra=(), name=None):
        name = name or f"worker-{env}-{colour}-{len(self.roles)}"
        tmp = os.path.join(self.workdir, name + "-tmp")
        os.makedirs(tmp)
        os.chmod(tmp, 0o711)
        args = ["--env", env, "--color", colour, "--host", "127.0.0.1", "--port", "0",
                "--nats", self.nats.url, "--events", f"ws://127.0.0.1:{events.port}/{env}",
                "--cache-dir", self.cache_dir, "--tmp-dir", tmp] + list(extra)
        return self._role("worker", args, name)

    def admin(self, *args, check=True):
        proc = subprocess.run([CEX_BIN, "admin", "--nats", self.nats.url] + list(args),
                              capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"cex admin {args} failed: {proc.stdout}{proc.stderr}")
        return proc
