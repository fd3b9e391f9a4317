"""Helpers for end-to-end tests: start a real `cex serve` and talk HTTP to it."""

import ctypes
import http.client
import json
import os
import re
import shutil
import socket
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse

CEX_BIN = os.environ.get("CEX_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "cex")
SOURCE_DIR = os.environ.get("CEX_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")

LISTENING_RE = re.compile(r"serve listening url=http://([^:/]+):(\d+)/")


def _die_with_parent():
    """Makes the child get SIGTERM when the test process goes away, however it ends."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Response:
    """One HTTP response: status, headers (lower-case names) and raw body."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())


class CexServer:
    """A `cex serve` process on a free loopback port, with private cache and temp dirs.

    Use as a context manager. On exit the server is stopped and the temp root must be
    empty: every compile removes its directory.
    """

    def __init__(self, extra_args=(), config_dir=None, env=None, cache_dir=None, start_timeout=60,
                 run_as=None):
        self.workdir = tempfile.mkdtemp(prefix="cex-e2e-")
        # The sandbox runs compilers as an unprivileged user, who must be able to reach the
        # per-compile directories under the temp root.
        os.chmod(self.workdir, 0o711)
        self.tmp_root = os.path.join(self.workdir, "tmp")
        self.cache_dir = cache_dir or os.path.join(self.workdir, "cache")
        os.makedirs(self.tmp_root)
        self.args = [CEX_BIN, "serve", "--host", "127.0.0.1", "--port", "0",
                     "--cache-dir", self.cache_dir, "--tmp-dir", self.tmp_root]
        if config_dir:
            self.args += ["--config", config_dir]
        self.args += list(extra_args)
        if run_as is not None:
            # Serve as an unprivileged user: it owns the cache and temp dirs, nothing else.
            uid, gid = run_as
            for path in (self.workdir, self.tmp_root):
                os.chown(path, uid, gid)
            self.args = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                         "--"] + self.args
        self.env = dict(os.environ, **(env or {}))
        self.start_timeout = start_timeout
        self.log_lines = []
        self.proc = None
        self.port = None
        self.started_at = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        leftovers = os.listdir(self.tmp_root) if os.path.isdir(self.tmp_root) else []
        shutil.rmtree(self.workdir, ignore_errors=True)
        if exc[0] is None and leftovers:
            raise AssertionError(f"temp root not empty after the run: {leftovers}")

    def start(self):
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     env=self.env, preexec_fn=_die_with_parent)
        ready = threading.Event()

        def pump():
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.log_lines.append(line)
                m = LISTENING_RE.search(line)
                if m and self.port is None:
                    self.port = int(m.group(2))
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(self.start_timeout) or self.port is None:
            self.stop()
            raise AssertionError("cex serve did not start:\n" + "\n".join(self.log_lines))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def request(self, method, path, body=None, headers=None, timeout=120):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode("utf-8")
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            headers_out = {k.lower(): v for k, v in r.getheaders()}
            return Response(r.status, r.reason, headers_out, data)
        finally:
            conn.close()

    def get(self, path, accept=None, **kw):
        headers = {"Accept": accept} if accept else {}
        return self.request("GET", path, headers=headers, **kw)

    def get_json(self, path):
        r = self.get(path, accept="application/json")
        assert r.status == 200, (r.status, r.body[:500])
        return r.json()

    def compile_json(self, compiler_id, body, accept="application/json", content_type="application/json"):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        return self.request("POST", f"/api/compiler/{urllib.parse.quote(compiler_id, safe='')}/compile",
                            body=data, headers=headers)

    def compile_text(self, compiler_id, source, query="", accept=None,
                     content_type="application/x-www-form-urlencoded"):
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        path = f"/api/compiler/{compiler_id}/compile" + (("?" + query) if query else "")
        return self.request("POST", path, body=source, headers=headers)


def first_compiler(server, lang, compiler_type):
    """The id of a compiler of the given language and type (gcc, clang) on this machine."""
    for c in server.get_json(f"/api/compilers/{urllib.parse.quote(lang, safe='')}?fields=id,compilerType,semver"):
        if c["compilerType"] == compiler_type:
            return c["id"]
    raise AssertionError(f"no {compiler_type} compiler for {lang}")


def asm_texts(result):
    return [line["text"] for line in result["asm"]]


def is_instruction(text):
    """True for an asm line that is an instruction (not a label, directive or blank)."""
    stripped = text.strip()
    if not stripped or stripped.endswith(":") or stripped.startswith((".", "#", ";")):
        return False
    return text[:1] in (" ", "\t")


def wait_until(predicate, timeout, interval=0.05):
    """Polls `predicate` until it is true or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def strip_ansi(text):
    """The text without the colour escapes gcc writes with -fdiagnostics-color."""
    return ANSI_RE.sub("", text)


ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def format_request(method, path, headers, body=b""):
    """The bytes of an HTTP/1.1 request; `headers` is a list of (name, value) pairs sent as given,
    so a header with an empty value can be written."""
    lines = [f"{method} {path} HTTP/1.1"] + [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class RawResponse:
    """A response read off the wire: status line, header lines in order, and the body."""

    def __init__(self, status_line, header_lines, body):
        self.status_line = status_line
        self.header_lines = header_lines  # (name, value) as sent
        self.body = body
        parts = status_line.split(" ", 2)
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        self.headers = {name.lower(): value for name, value in header_lines}

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)


class RawHttpClient:
    """One socket to the server, written and read by hand, for checks of the wire format that
    http.client would hide (header lines as sent, keep-alive, bursts, early closes)."""

    def __init__(self, port, timeout=60):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def read_burst(self, silence):
        """Everything that arrives until `silence` seconds pass without data after the first
        byte, which is how a client that reads until a quiet pause sees a response."""
        chunks = [self.sock.recv(65536)]
        timeout = self.sock.gettimeout()
        self.sock.settimeout(silence)
        try:
            while chunks[-1]:
                chunks.append(self.sock.recv(65536))
        except socket.timeout:
            pass
        finally:
            self.sock.settimeout(timeout)
        data = b"".join(chunks)
        self.buffer += data
        return data

    def read_response(self):
        """The next response: the head, then a body framed by Content-Length or chunks."""
        head = self._read_until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")[:-2]
        header_lines = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            header_lines.append((name, value.strip(" ")))
        response = RawResponse(lines[0], header_lines, b"")
        if response.header("transfer-encoding") == "chunked":
            response.body = self._read_chunked()
        else:
            response.body = self._read_exactly(int(response.header("content-length") or 0))
        return response

    def peer_closed(self, wait=1.0):
        """True when the server has closed its side (nothing more is buffered or arriving)."""
        if self.buffer:
            return False
        timeout = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1, socket.MSG_PEEK) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(timeout)

    def _read_until(self, marker):
        while marker not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"connection closed before {marker!r}: {self.buffer[:200]!r}")
            self.buffer += data
        end = self.buffer.index(marker) + len(marker)
        out, self.buffer = self.buffer[:end], self.buffer[end:]
        return out

    def _read_exactly(self, n):
        while len(self.buffer) < n:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"connection closed after {len(self.buffer)} of {n} bytes")
            self.buffer += data
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _read_chunked(self):
        body = b""
        while True:
            size = int(self._read_until(b"\r\n").strip().split(b";")[0], 16)
            if size == 0:
                self._read_until(b"\r\n")
                return body
            body += self._read_exactly(size)
            self._read_until(b"\r\n")
