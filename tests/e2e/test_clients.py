"""Contract tests for the public clients of the Compiler Explorer API.

Each TestCase replays one client's recorded request shapes (method, path, headers, body quirks)
against a real `cex serve` and asserts exactly what that client reads from the replies. Features
cex does not have yet are tests marked skipped, so that the gap stays visible.
"""

import gzip
import json
import os
import re
import shutil
import tempfile
import unittest
import zlib

from cexlib import (CexServer, RawHttpClient, first_compiler, format_request, is_instruction,
                    strip_ansi)

SQUARE = "int square(int n) {\n    return n * n;\n}\n"
# A missing semicolon: gcc and clang both report it on line 2.
BROKEN = "int square(int n) {\n    return n * n\n}\n"
CALLS = "int sq(int n) { return n * n; }\nint twice(int n) { return sq(n) + sq(n + 1); }\n"
DECLARATION_ONLY = "int f(int);\n"
USES_LIBRARY = "#include <cexdemo/twice.h>\nint f(int v) { return cexdemo_twice(v); }\n"
# Programs that clients run. Each reply must carry exactly what the program did, so every input
# (arguments, stdin, libraries) and every output (stdout, stderr, exit code) is traceable.
PROGRAM = ('#include <cstdio>\n'
           'int main() { std::puts("hello"); std::fputs("oops\\n", stderr); return 3; }\n')
# Echoes its arguments and stdin, one line each, and exits with 40 + argc.
ECHO = ("#include <cstdio>\n"
        "int main(int argc, char** argv) {\n"
        "  for (int i = 1; i < argc; ++i) std::printf(\"arg %d: %s\\n\", i, argv[i]);\n"
        "  char line[256];\n"
        "  while (std::fgets(line, sizeof line, stdin)) std::printf(\"stdin: %s\", line);\n"
        "  std::fputs(\"done\\n\", stderr);\n"
        "  return 40 + argc;\n"
        "}\n")
# Stdout only, with an empty and an indented line that a text client must get back verbatim.
MULTILINE_OUTPUT = "first\n\n  third\n"
MULTILINE = ('#include <cstdio>\n'
             'int main() { std::fputs("first\\n\\n  third\\n", stdout); return 5; }\n')
USES_LIBRARY_PROGRAM = ("#include <cexdemo/twice.h>\n#include <cstdio>\n"
                        "int main() { std::printf(\"%d\\n\", cexdemo_twice(21));"
                        " return cexdemo_twice(2); }\n")
# A different line on every run, so a reply that was not a fresh run shows.
CLOCK = ("#include <cstdio>\n#include <ctime>\n"
         "int main() { timespec t; clock_gettime(CLOCK_MONOTONIC, &t);\n"
         "  std::printf(\"%ld.%09ld\\n\", static_cast<long>(t.tv_sec), t.tv_nsec); return 3; }\n")
BANNER = "# Compilation provided by Compiler Explorer at https://godbolt.org/"

NO_CMAKE = "cex does not implement cmake builds yet"
NO_SHORTENER = "cex does not implement the shortener and shortlinkinfo yet"
NO_ASM_DOCS = "cex does not implement asm docs yet"
NO_FORMATTERS = "cex does not implement formats/format yet"
NO_TOOLS = "cex does not implement tools yet"
NO_BUILTIN_SOURCES = "cex does not implement source/builtin yet"

# gcc's diagnostic form, which editors scan for to jump to errors.
GCC_DIAGNOSTIC_RE = re.compile(r"^<source>:(\d+):(\d+): (error|warning|note): (.+)$")

SERVER = None
LIBRARY_DIR = None


def write_library_config(root):
    """A configuration that adds one header-only library to C++; compilers still come from
    discovery. Clients list libraries and ask for them by id, alias or display version."""
    include = os.path.join(root, "include", "cexdemo")
    os.makedirs(include)
    with open(os.path.join(include, "twice.h"), "w") as f:
        f.write("#pragma once\ninline int cexdemo_twice(int x) { return 2 * x; }\n")
    config = os.path.join(root, "config")
    os.makedirs(config)
    with open(os.path.join(config, "c++.local.properties"), "w") as f:
        f.write("libs=cexdemo\n"
                "libs.cexdemo.name=Cex Demo\n"
                "libs.cexdemo.url=https://example.org/cexdemo\n"
                "libs.cexdemo.description=A one-header library of the client tests\n"
                "libs.cexdemo.versions=100\n"
                "libs.cexdemo.versions.100.version=1.0.0\n"
                "libs.cexdemo.versions.100.alias=latest\n"
                f"libs.cexdemo.versions.100.path={os.path.join(root, 'include')}\n")
    return config


def setUpModule():
    global SERVER, LIBRARY_DIR
    LIBRARY_DIR = tempfile.mkdtemp(prefix="cex-clients-")
    os.chmod(LIBRARY_DIR, 0o755)  # sandboxed compilers run as another user and read it
    SERVER = CexServer(config_dir=write_library_config(LIBRARY_DIR))
    SERVER.start()
    ClientContract.gcc = first_compiler(SERVER, "c++", "gcc")
    ClientContract.clang = first_compiler(SERVER, "c++", "clang")


def tearDownModule():
    try:
        SERVER.__exit__(None, None, None)
    finally:
        shutil.rmtree(LIBRARY_DIR, ignore_errors=True)


def asm_texts(result):
    return [line["text"] for line in result["asm"]]


def texts(lines):
    return [line["text"] for line in lines]


def instruction_lines(result):
    return [line for line in result["asm"] if is_instruction(line["text"])]


class ClientContract(unittest.TestCase):
    """Plumbing shared by the client classes: each sets the headers its client sends."""

    gcc = None
    clang = None
    accept = "application/json"  # None: no Accept header at all
    content_type = "application/json"
    extra_headers = {}

    def send(self, method, path, body=None):
        headers = dict(self.extra_headers)
        if self.accept is not None:
            headers["Accept"] = self.accept
        if body is not None:
            headers["Content-Type"] = self.content_type
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
        r = SERVER.request(method, path, body=body, headers=headers)
        # Only clients that announce compression may get it; undo it for the assertions.
        encoding = r.header("content-encoding")
        if encoding == "gzip":
            r.body = gzip.decompress(r.body)
        elif encoding == "deflate":
            r.body = zlib.decompress(r.body)
        return r

    def get(self, path):
        return self.send("GET", path)

    def get_json(self, path):
        r = self.get(path)
        self.assertEqual(r.status, 200, (path, r.body[:300]))
        self.assertIn("application/json", r.header("content-type"))
        return r.json()

    def get_list(self, path):
        """A JSON list that must not be empty, so that checks over its entries mean something."""
        items = self.get_json(path)
        self.assertIsInstance(items, list)
        self.assertTrue(items, path)
        return items

    def compile(self, body, compiler=None):
        return self.send("POST", f"/api/compiler/{compiler or self.gcc}/compile", body)

    def compile_json(self, body, compiler=None):
        r = self.compile(body, compiler)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertIn("application/json", r.header("content-type"))
        return r.json()

    # What clients read, checked the same way for all of them.

    def assert_main_file_sources(self, result):
        """Every asm line has a `source` key; a source in the main file names it as null. Line
        mapping in the editors works only with exactly that shape."""
        self.assertTrue(result["asm"])
        mapped = 0
        for line in result["asm"]:
            self.assertIn("source", line)
            if line["source"] is not None:
                self.assertIn("file", line["source"])
                self.assertIsNone(line["source"]["file"], line)
                self.assertGreater(line["source"]["line"], 0)
                mapped += 1
        self.assertGreater(mapped, 0)

    def assert_error_tags(self, result, line):
        """Compile errors come back as tagged diagnostics on the given source line."""
        self.assertNotEqual(result["code"], 0)
        tags = [l["tag"] for l in result["stderr"] if "tag" in l]
        errors = [t for t in tags if t["severity"] == 3]
        self.assertTrue(errors, result["stderr"])
        for tag in tags:
            self.assertIn(tag["severity"], (1, 2, 3))
            self.assertIsInstance(tag["column"], int)
        self.assertEqual(errors[0]["line"], line)
        self.assertGreater(errors[0]["column"], 0)
        return errors

    def assert_run(self, run, code, stdout, stderr):
        """An execution object of a program that built cleanly and ran to its exit."""
        self.assertIs(run["didExecute"], True, run)
        self.assertEqual(run["code"], code, run)
        self.assertEqual(texts(run["stdout"]), stdout)
        self.assertEqual(texts(run["stderr"]), stderr)
        self.assertIs(run["timedOut"], False)
        self.assertIs(run["truncated"], False)
        self.assertIsInstance(run["execTime"], int)
        self.assertGreaterEqual(run["execTime"], 0)
        build = run["buildResult"]
        self.assertEqual(build["code"], 0, build["stderr"])
        self.assertEqual(build["stdout"], [])
        self.assertEqual(build["stderr"], [])

    def assert_executor_reply(self, result, code, stdout, stderr):
        """An executor request is answered with the execution object alone, no compile result
        around it: clients read `code`, `stdout` and `stderr` at the top level."""
        self.assert_run(result, code, stdout, stderr)
        for key in ("asm", "execResult", "labelDefinitions"):
            self.assertNotIn(key, result)

    def assert_build_failed(self, result):
        """An executor request for source that does not build: nothing runs, the top level says
        "Build failed" and the compiler's diagnostics are in `buildResult`."""
        self.assertIs(result["didExecute"], False)
        self.assertEqual(result["code"], -1)
        self.assertEqual(result["stdout"], [])
        self.assertEqual(texts(result["stderr"]), ["Build failed"])
        self.assertNotIn("asm", result)
        build = result["buildResult"]
        self.assertNotEqual(build["code"], 0)
        errors = [l["tag"] for l in build["stderr"] if "tag" in l and l["tag"]["severity"] == 3]
        self.assertTrue(errors, build["stderr"])
        self.assertEqual(errors[0]["line"], 2)

    def assert_label_definitions(self, result):
        """`labelDefinitions` maps each label to the 1-based asm line that defines it."""
        self.assertTrue(result["labelDefinitions"])
        for label, line in result["labelDefinitions"].items():
            self.assertEqual(result["asm"][line - 1]["text"], label + ":")


class MkcmsCompilerExplorerEl(ClientContract):
    """mkcms/compiler-explorer.el: curl through plz, `Accept: application/json` always,
    `--compressed`, two compiles per edit (the second one an executor request)."""

    extra_headers = {"Accept-Encoding": "deflate, gzip, br, zstd"}
    COMPILER_FIELDS = ("id,lang,name,groupName,instructionSet,supportsExecute,supportsBinary,"
                       "supportsBinaryObject,supportsLibraryCodeFilter,supportsDemangle,"
                       "supportsIntel,disabledFilters")
    # The filters el sends, each with the capability that must be JSON true for it to be sent.
    FILTERS = {"binary": (False, "supportsBinary"), "binaryObject": (False, "supportsBinaryObject"),
               "commentOnly": (True, None), "demangle": (True, "supportsDemangle"),
               "directives": (True, None), "intel": (True, "supportsIntel"),
               "labels": (True, None), "libraryCode": (True, "supportsLibraryCodeFilter"),
               "trim": (False, None), "debugCalls": (False, None)}

    def compiler_entry(self):
        compilers = self.get_json("/api/compilers?fields=" + self.COMPILER_FIELDS)
        return next(c for c in compilers if c["id"] == self.gcc)

    def filters_for(self, compiler):
        filters = {}
        for name, (value, capability) in self.FILTERS.items():
            if capability and compiler[capability] is not True:
                continue
            if name not in compiler["disabledFilters"]:
                filters[name] = value
        return filters

    def compile_body(self, source, compiler, executor_request, stdin=""):
        return {"source": source,
                "options": {"userArguments": "-O2",
                            "executeParameters": {"args": "first 'second third'",
                                                  "stdin": stdin},
                            "compilerOptions": {"skipAsm": False,
                                                "executorRequest": executor_request},
                            "filters": self.filters_for(compiler),
                            # No such tool here: ignored, as Compiler Explorer ignores it.
                            "tools": [{"id": "clangtidytrunk", "args": ["-checks=*"],
                                       "stdin": ""}],
                            "libraries": []},
                "allowStoreCodeDebug": False}

    def test_languages(self):
        fields = "id,name,extensions,example,defaultCompiler"
        languages = self.get_json("/api/languages?fields=" + fields)
        compiler_ids = {c["id"] for c in self.get_json("/api/compilers?fields=id")}
        for language in languages:
            self.assertEqual(set(language), set(fields.split(",")))
            self.assertIsInstance(language["example"], str)
            self.assertIn(language["defaultCompiler"], compiler_ids)
        self.assertIn("C++", {l["name"] for l in languages})

    def test_compiler_catalogue_booleans_are_json_booleans(self):
        compilers = self.get_json("/api/compilers?fields=" + self.COMPILER_FIELDS)
        self.assertTrue(compilers)
        for c in compilers:
            self.assertEqual(set(c), set(self.COMPILER_FIELDS.split(",")))
            for key in ("supportsExecute", "supportsBinary", "supportsBinaryObject",
                        "supportsLibraryCodeFilter", "supportsDemangle", "supportsIntel"):
                self.assertIsInstance(c[key], bool, (c["id"], key))
            self.assertIsInstance(c["disabledFilters"], list)

    def test_libraries(self):
        libraries = self.get_json("/api/libraries/c++")
        demo = next(l for l in libraries if l["id"] == "cexdemo")
        self.assertEqual(demo["name"], "Cex Demo")
        self.assertEqual([(v["id"], v["version"]) for v in demo["versions"]], [("100", "1.0.0")])

    def test_tools_list_is_json(self):
        tools = self.get_json("/api/tools/c++")
        self.assertIsInstance(tools, list)
        for tool in tools:
            self.assertTrue({"id", "name", "allowStdin"} <= set(tool))

    def test_compile_maps_lines_only_through_null_file(self):
        compiler = self.compiler_entry()
        result = self.compile_json(self.compile_body(SQUARE, compiler, False))
        self.assertEqual(result["code"], 0)
        self.assert_main_file_sources(result)
        self.assertIn("square(int):", asm_texts(result))
        for line in instruction_lines(result):
            self.assertIn(line["source"]["line"], (1, 2, 3))
        self.assertEqual(result["tools"], [])
        for stream in ("stdout", "stderr"):
            self.assertTrue(all(isinstance(l["text"], str) for l in result[stream]))

    def test_errors_are_in_gcc_style(self):
        result = self.compile_json(self.compile_body(BROKEN, self.compiler_entry(), False))
        self.assertNotEqual(result["code"], 0)
        found = [GCC_DIAGNOSTIC_RE.match(strip_ansi(l["text"])) for l in result["stderr"]]
        errors = [m for m in found if m and m.group(3) == "error"]
        self.assertTrue(errors, result["stderr"])
        self.assertEqual(int(errors[0].group(1)), 2)

    def test_second_compile_is_an_executor_request(self):
        compiler = self.compiler_entry()
        self.assertIs(compiler["supportsExecute"], True)  # el sends the second compile only then
        first = self.compile_json(self.compile_body(ECHO, compiler, False, stdin="x\ny\n"))
        self.assertEqual(first["code"], 0, first["stderr"])
        self.assertIn("main:", asm_texts(first))
        self.assertNotIn("execResult", first)
        # The arguments come as one string, split as a shell would.
        second = self.compile_json(self.compile_body(ECHO, compiler, True, stdin="x\ny\n"))
        self.assert_executor_reply(second, 43, ["arg 1: first", "arg 2: second third",
                                                "stdin: x", "stdin: y"], ["done"])

    def test_executor_request_for_broken_source(self):
        result = self.compile_json(self.compile_body(BROKEN, self.compiler_entry(), True))
        self.assert_build_failed(result)

    @unittest.skip(NO_TOOLS)
    def test_tool_results(self):
        body = self.compile_body(SQUARE, self.compiler_entry(), False)
        body["options"]["tools"] = [{"id": "clangtidytrunk", "args": ["-checks=*"], "stdin": ""}]
        result = self.compile_json(body)
        self.assertEqual({t["id"] for t in result["tools"]}, {"clangtidytrunk"})
        for tool in result["tools"]:
            self.assertTrue({"stdout", "stderr"} <= set(tool))

    @unittest.skip(NO_ASM_DOCS)
    def test_asm_docs(self):
        doc = self.get_json("/api/asm/amd64/mov")
        self.assertTrue({"tooltip", "url"} <= set(doc))

    @unittest.skip(NO_BUILTIN_SOURCES)
    def test_builtin_examples(self):
        examples = self.get_json("/source/builtin/list")
        self.assertTrue(examples)
        first = examples[0]
        loaded = self.get_json(f"/source/builtin/load/{first['lang']}/{first['file']}")
        self.assertIn("file", loaded)

    @unittest.skip(NO_SHORTENER)
    def test_make_and_restore_link(self):
        state = {"sessions": [{"id": 1, "language": "c++", "source": SQUARE,
                               "compilers": [{"id": self.gcc, "libs": [], "tools": [],
                                              "options": "-O2", "filters": {}}],
                               "executors": [{"arguments": "", "compiler": {}, "stdin": ""}]}]}
        r = self.send("POST", "/api/shortener", state)
        url = r.json()["url"]
        path = url.split("://", 1)[1].split("/", 1)[1]
        self.assertTrue(path.startswith("z/"), url)
        restored = self.get_json("/api/shortlinkinfo/" + path[2:])
        self.assertEqual(restored["sessions"][0]["source"], SQUARE)


class Krady21CompilerExplorerNvim(ClientContract):
    """krady21/compiler-explorer.nvim: curl with `-w "\\n%{http_code}\\n"`, output split on
    newlines, so a JSON body must be a single line without a trailing newline."""

    def curl_output(self, response):
        """The body as the client recovers it from curl's output, after checking the status
        it finds in the second piece."""
        pieces = (response.body.decode("utf-8") + "\n" + str(response.status) + "\n").split("\n")
        self.assertEqual(len(pieces), 3, "the body is not one line")
        self.assertEqual(pieces[1], "200")
        return json.loads(pieces[0])

    def compile_body(self, source, gcc_dump, binary=False):
        return {"source": source, "compiler": self.gcc, "lang": "c++",
                "allowStoreCodeDebug": True,
                "options": {"userArguments": "-O2",
                            "compilerOptions": {"produceCfg": False, "produceDevice": False,
                                                "produceLLVMOptPipeline": False,
                                                "producePp": False, "produceGccDump": gcc_dump},
                            "filters": {"binary": binary, "commentOnly": True, "demangle": True,
                                        "directives": True, "execute": False, "intel": True,
                                        "labels": True, "libraryCode": True, "trim": False},
                            # The display version, not the version id: ignored as CE does.
                            "libraries": [{"id": "cexdemo", "version": "1.0.0"}],
                            "tools": [{"id": "clangtidytrunk", "args": "", "stdin": ""}]}}

    def test_metadata_lists_are_one_line(self):
        languages = self.curl_output(self.get("/api/languages"))
        self.assertTrue(languages)
        for language in languages:
            self.assertTrue({"id", "name", "extensions"} <= set(language))
        compilers = self.curl_output(self.get("/api/compilers"))
        cpp = [c for c in compilers if c["lang"] == "c++"]
        self.assertIn(self.gcc, {c["id"] for c in cpp})
        for c in cpp:
            self.assertTrue({"id", "name", "lang", "instructionSet"} <= set(c))
        libraries = self.curl_output(self.get("/api/libraries/c++"))
        demo = next(l for l in libraries if l["id"] == "cexdemo")
        self.assertEqual([v["version"] for v in demo["versions"]], ["1.0.0"])

    def test_compile_with_either_empty_gcc_dump(self):
        # vim.json writes an empty Lua table as [], other encoders as {}.
        for gcc_dump in ({}, []):
            with self.subTest(produceGccDump=gcc_dump):
                result = self.curl_output(self.compile(self.compile_body(SQUARE, gcc_dump)))
                self.assertEqual(result["code"], 0)
                self.assert_main_file_sources(result)
                self.assert_label_definitions(result)

    def test_binary_lines_carry_address_and_opcodes(self):
        result = self.curl_output(self.compile(self.compile_body(SQUARE, {}, binary=True)))
        self.assertEqual(result["code"], 0)
        instructions = [l for l in result["asm"] if "address" in l]
        self.assertTrue(instructions)
        for line in instructions:
            self.assertIsInstance(line["address"], int)
            self.assertTrue(line["opcodes"])
            self.assertTrue(all(re.fullmatch(r"[0-9a-f]{2}", o) for o in line["opcodes"]), line)
            self.assertIn("source", line)

    def test_diagnostics_split_at_first_colon(self):
        result = self.curl_output(self.compile(self.compile_body(BROKEN, {})))
        for tag in self.assert_error_tags(result, line=2):
            severity, _, message = tag["text"].partition(": ")
            self.assertEqual(severity, "error")
            self.assertTrue(message)

    def test_large_body_gets_continue(self):
        # curl -d asks with `Expect: 100-continue` before a body over 1 MiB and waits a second
        # for the go-ahead; without it every large compile would stall.
        body = json.dumps(self.compile_body(SQUARE + "//" + " " * (1024 * 1024), {})).encode()
        client = RawHttpClient(SERVER.port, timeout=1.0)
        try:
            client.send(format_request(
                "POST", f"/api/compiler/{self.gcc}/compile",
                [("Host", f"127.0.0.1:{SERVER.port}"), ("Accept", "application/json"),
                 ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                 ("Expect", "100-continue")]))
            self.assertEqual(client.read_response().status_line, "HTTP/1.1 100 Continue")
            client.sock.settimeout(60)
            client.send(body)
            result = self.curl_output(client.read_response())
        finally:
            client.close()
        self.assertEqual(result["code"], 0)
        self.assertIn("square(int):", asm_texts(result))

    @unittest.skip(NO_FORMATTERS)
    def test_format(self):
        formats = self.curl_output(self.get("/api/formats"))
        self.assertTrue(formats)
        body = {"base": formats[0]["styles"][0] if formats[0]["styles"] else "__DefaultStyle",
                "source": "int  f( ){return 1;}", "tabWidth": 4, "useSpaces": True}
        answer = self.curl_output(self.send("POST", f"/api/format/{formats[0]['type']}", body))
        self.assertEqual(answer["exit"], 0)
        self.assertIn("int f()", answer["answer"])

    @unittest.skip(NO_ASM_DOCS)
    def test_asm_docs(self):
        self.assertIn("tooltip", self.curl_output(self.get("/api/asm/amd64/imul")))

    @unittest.skip(NO_BUILTIN_SOURCES)
    def test_builtin_examples(self):
        self.assertTrue(self.curl_output(self.get("/source/builtin/list")))


class P00fGodboltNvim(ClientContract):
    """p00f/godbolt.nvim: posts only `{source, options}` with curl --data-binary (server
    default filters apply); its compiler picker reads the text table curl gets by default."""

    def compile_bytes(self, source, options):
        body = json.dumps({"source": source, "options": options}, separators=(",", ":"))
        return self.compile_json(body.encode("utf-8"))

    def test_compiler_picker_reads_text_table(self):
        self.accept = "*/*"  # curl's default
        r = self.get("/api/compilers/c++")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain"))
        rows = r.text.split("\n")[1:]
        picked = [row.split(" ")[0] for row in rows]
        self.accept = "application/json"
        listed = self.get_json("/api/compilers/c++")
        self.assertEqual(sorted(picked), sorted(c["id"] for c in listed))

    def test_compile_with_server_default_filters(self):
        result = self.compile_bytes(SQUARE, {"userArguments": "-O2"})
        self.assertEqual(result["code"], 0)
        texts = asm_texts(result)
        self.assertIn("square(int):", texts)  # demangled
        self.assertFalse([t for t in texts if t.strip().startswith(".")])  # no directives
        for line in instruction_lines(result):
            self.assertNotIn("%", line["text"])  # Intel syntax
        self.assert_main_file_sources(result)

    def test_failure_sentinel_and_quickfix_tags(self):
        result = self.compile_bytes(BROKEN, {"userArguments": "-O2"})
        self.assertEqual(result["asm"][0]["text"], "<Compilation failed>")
        self.assert_error_tags(result, line=2)

    def test_filtered_count_when_asm_is_empty(self):
        result = self.compile_bytes(DECLARATION_ONLY, {"userArguments": "-O2"})
        self.assertEqual(result["code"], 0)
        self.assertEqual(result["asm"], [])
        self.assertGreater(result["filteredCount"], 0)

    def test_exec_mode_reads_the_run_at_the_top_level(self):
        options = {"userArguments": "-O2", "compilerOptions": {"executorRequest": True}}
        result = self.compile_bytes(PROGRAM, options)
        self.assert_executor_reply(result, 3, ["hello"], ["oops"])
        self.assert_build_failed(self.compile_bytes(BROKEN, options))


class LdrummCompilerExplorerVim(ClientContract):
    """ldrumm/compiler-explorer.vim: hand-written HTTP/1.1 on one kept-alive socket, strict
    about the response framing, reading until the server goes quiet."""

    HEADER_LINE_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

    def request_bytes(self, compiler, source):
        body = json.dumps({"compiler": compiler, "source": source,
                           "options": {"userArguments": "-I/home/user/project -xc++ -std=c++17 -O2",
                                       "filters": {"labels": True, "directives": True,
                                                   "commentOnly": True, "trim": False,
                                                   "intel": True},
                                       "compilerOptions": {}}}).encode("utf-8")
        headers = [("Host", "localhost"), ("Content-Type", "application/json"),
                   ("Accept", "application/json"), ("Accept-Encoding", ""),
                   ("Content-Length", str(len(body)))]
        return format_request("POST", f"/api/compiler/{compiler}/compile", headers, body)

    def exchange(self, client, compiler, source):
        """One request and the response as the client parses it after a quiet pause."""
        client.send(self.request_bytes(compiler, source))
        burst = client.read_burst(silence=0.25)
        response = client.read_response()
        self.assertEqual(client.buffer, b"", "bytes after the response")
        self.assertEqual(len(burst), burst.index(b"\r\n\r\n") + 4 + len(response.body),
                         "the response did not arrive in one burst")
        self.assertRegex(response.status_line, r"^HTTP/1\.[01] \d{3} \w+")
        for name, value in response.header_lines:
            self.assertRegex(name, self.HEADER_LINE_RE)
            self.assertNotEqual(value, "", f"empty header {name}")
        self.assertEqual(int(response.header("content-length")), len(response.body))
        self.assertIsNone(response.header("content-encoding"))
        return response

    def test_compiles_on_one_kept_alive_connection(self):
        client = RawHttpClient(SERVER.port)
        try:
            good = self.exchange(client, self.gcc, SQUARE)
            self.assertEqual(good.status, 200)
            self.assertIn("application/json", good.header("content-type"))
            result = good.json()
            self.assertEqual(result["code"], 0)
            self.assertIn("square(int):", asm_texts(result))
            self.assertTrue([l for l in result["asm"] if l["source"] and l["source"]["line"]])
            self.assertFalse(client.peer_closed(wait=0.2), "the server closed a kept-alive socket")

            bad = self.exchange(client, self.gcc, BROKEN)
            self.assertEqual(bad.status, 200)
            result = bad.json()
            self.assertNotEqual(result["code"], 0)
            self.assertTrue([l["text"] for l in result["stderr"]])
        finally:
            client.close()

    def test_unknown_compiler_status_line_has_a_reason(self):
        client = RawHttpClient(SERVER.port)
        try:
            response = self.exchange(client, "%2Fusr%2Fbin%2Fg%2B%2B", SQUARE)
            self.assertEqual(response.status_line, "HTTP/1.1 404 Not Found")
        finally:
            client.close()


class YkikoVscodeCompilerExplorer(ClientContract):
    """16bit-ykiko/vscode-compiler-explorer: axios defaults (its Accept must negotiate JSON),
    numeric flags, its own `skipASM` filter key, execution as a second POST."""

    accept = "application/json, text/plain, */*"
    content_type = "application/json; charset=utf-8"
    FIELDS = ("id,name,supportsDemangle,supportsBinary,supportsBinaryObject,supportsIntel,"
              "supportsExecute,supportsLibraryCodeFilter")

    def compile_body(self, source, execute, args=(), stdin=""):
        return {"lang": "c++", "source": source, "compiler": self.gcc,
                "bypassCache": 0, "allowStoreCodeDebug": 0, "files": [],
                "options": {"filters": {"binary": False, "binaryObject": False,
                                        "commentOnly": True, "demangle": True,
                                        "directives": True, "execute": execute, "intel": True,
                                        "labels": True, "libraryCode": True, "trim": False,
                                        "debugCalls": False, "skipASM": execute},
                            "userArguments": "-O2",
                            "compilerOptions": {"skipAsm": execute, "executorRequest": execute,
                                                "cmakeArgs": "", "customOutputFilename": "main"},
                            "executeParameters": {"args": list(args), "stdin": stdin}}}

    def test_compiler_list_negotiates_json(self):
        compilers = self.get_json("/api/compilers/c++?fields=" + self.FIELDS)
        self.assertIn(self.gcc, {c["id"] for c in compilers})
        for c in compilers:
            self.assertEqual(set(c), set(self.FIELDS.split(",")))

    def test_compile(self):
        result = self.compile_json(self.compile_body(SQUARE, execute=False))
        self.assertEqual(result["code"], 0)
        self.assertIn("square(int):", asm_texts(result))
        lines = [l["source"]["line"] for l in result["asm"] if l["source"]]
        self.assertTrue(lines)
        self.assertIsInstance(result["stdout"], list)
        self.assertIsInstance(result["stderr"], list)

    def test_execution_is_a_second_identical_post(self):
        args, stdin = ["one", "two words"], "line\n"
        first = self.compile_json(self.compile_body(ECHO, False, args, stdin))
        self.assertEqual(first["code"], 0, first["stderr"])
        self.assertNotIn("execResult", first)
        result = self.compile_json(self.compile_body(ECHO, True, args, stdin))
        expected = ["arg 1: one", "arg 2: two words", "stdin: line"]
        # The client shows execResult.stdout, else the top-level stdout.
        self.assertEqual(texts(result.get("execResult", result)["stdout"]), expected)
        self.assert_executor_reply(result, 43, expected, ["done"])

    @unittest.skip(NO_CMAKE)
    def test_cmake_project(self):
        body = self.compile_body("cmake_minimum_required(VERSION 3.5)\nproject(p)\n"
                                 "add_executable(main main.cpp)\n", execute=False)
        body["files"] = [{"filename": "main.cpp", "contents": SQUARE + "int main(){}\n"}]
        r = self.send("POST", f"/api/compiler/{self.gcc}/cmake", body)
        result = r.json()
        self.assertTrue(result["buildsteps"])
        self.assertIn("square(int):", asm_texts(result["result"]))

    @unittest.skip(NO_SHORTENER)
    def test_short_link_round_trip(self):
        state = {"sessions": [{"id": 1, "language": "c++", "source": SQUARE, "filename": "a.cpp",
                               "conformanceview": False,
                               "compilers": [{"_internalid": 1, "id": self.gcc, "options": "",
                                              "filters": {}, "libs": [], "specialoutputs": [],
                                              "tools": []}],
                               "executors": []}],
                 "trees": []}
        url = self.send("POST", "/api/shortener", state).json()["url"]
        restored = self.get_json("/api/shortlinkinfo/" + url.rstrip("/").rsplit("/", 1)[1])
        self.assertEqual(restored["sessions"][0]["compilers"][0]["_internalid"], 1)


class QtCreatorPlugin(ClientContract):
    """Qt Creator's Compiler Explorer plugin (QNetworkAccessManager): labels with column
    ranges, opcodes, and strict booleans."""

    extra_headers = {"User-Agent": "Qt Creator/14.0.0 (The Qt Company Ltd)"}

    def compile_body(self, source, binary):
        return {"compiler": self.gcc, "source": source, "lang": "c++",
                "options": {"userArguments": "-O0",
                            "compilerOptions": {"skipAsm": False, "executorRequest": False},
                            "filters": {"binary": binary, "binaryObject": False,
                                        "commentOnly": True, "demangle": True,
                                        "directives": True, "execute": False, "intel": True,
                                        "labels": True, "libraryCode": True, "trim": False,
                                        "debugCalls": False},
                            "libraries": [{"id": "cexdemo", "version": "100"}]}}

    def test_unknown_language_field_is_ignored(self):
        for language in self.get_list("/api/languages?fields=id,name,extensions,logoUrl"):
            self.assertEqual(set(language), {"id", "name", "extensions"})

    def test_compilers_and_libraries(self):
        for c in self.get_list("/api/compilers/c++"):
            self.assertTrue({"id", "name", "lang", "compilerType", "semver", "instructionSet"}
                            <= set(c))
        demo = next(l for l in self.get_json("/api/libraries/c++") if l["id"] == "cexdemo")
        self.assertEqual(demo["url"], "https://example.org/cexdemo")
        self.assertEqual(demo["versions"][0]["id"], "100")

    def test_labels_have_column_ranges(self):
        for binary in (False, True):
            with self.subTest(binary=binary):
                result = self.compile_json(self.compile_body(CALLS, binary))
                self.assertEqual(result["code"], 0)
                self.assertIs(result["timedOut"], False)
                self.assertIs(result["truncated"], False)
                self.assertIn("sq(int)", result["labelDefinitions"])
                calls = [l for l in result["asm"] if l["labels"]]
                self.assertTrue(calls)
                for line in calls:
                    for label in line["labels"]:
                        start, end = label["range"]["startCol"], label["range"]["endCol"]
                        self.assertEqual(line["text"][start - 1:end - 1], label["name"], line)
                if binary:
                    self.assertTrue(all(l["opcodes"] for l in result["asm"] if "address" in l))

    def test_diagnostic_tags_name_the_file(self):
        result = self.compile_json(self.compile_body(BROKEN, False))
        for tag in self.assert_error_tags(result, line=2):
            self.assertEqual(tag["file"], "example.cpp")
            self.assertTrue(tag["text"])

    def test_execute_filter_nests_exec_result(self):
        body = self.compile_body(PROGRAM, False)
        body["options"]["filters"]["execute"] = True
        result = self.compile_json(body)
        self.assertEqual(result["code"], 0, result["stderr"])
        self.assertIn("main:", asm_texts(result))
        self.assertNotIn("didExecute", result)
        self.assert_run(result["execResult"], 3, ["hello"], ["oops"])


class CeMcp(ClientContract):
    """compiler-explorer/ce-mcp: aiohttp, `null` members in compilerOptions, runs as executor
    requests without `lang`."""

    extra_headers = {"User-Agent": "CompilerExplorerMCP/1.0"}
    COMPILER_FIELDS = ("id,name,lang,compilerType,instructionSet,semver,group,groupName,hidden,"
                       "isNightly,libsArr,supportsLibraryCodeFilter,supportsExecute,supportsBinary,"
                       "supportsAsmDocs,supportsOptOutput")
    EXTENDED_FIELDS = (",tools,possibleOverrides,possibleRuntimeTools,license,notification,"
                       "options,alias")
    FILTERS = {"binary": False, "binaryObject": False, "commentOnly": True, "demangle": True,
               "directives": True, "execute": False, "intel": True, "labels": True,
               "libraryCode": True, "trim": False, "debugCalls": False}

    def compile_body(self, source):
        produce = {key: None for key in ("producePp", "produceAst", "produceIr",
                                         "produceOptPipeline", "produceDevice",
                                         "produceStackUsageInfo", "produceClangir",
                                         "produceRustMir", "overrides")}
        produce.update(produceGccDump={}, produceCfg=False, produceOptInfo=False)
        return {"source": source, "compiler": self.gcc, "lang": "c++",
                "options": {"userArguments": "-O2", "compilerOptions": produce,
                            "filters": self.FILTERS,
                            "tools": [{"id": "clangtidytrunk", "args": "-checks=*"}],
                            "libraries": [{"id": "cexdemo", "version": "latest"}]}}

    def run_body(self, source):
        return {"source": source,
                "options": {"userArguments": "-O2",
                            "executeParameters": {"args": ["a"], "stdin": "input"},
                            "compilerOptions": {"executorRequest": True, "skipAsm": True},
                            "filters": dict(self.FILTERS, execute=True), "tools": [],
                            "libraries": []}}

    def test_metadata(self):
        for language in self.get_list("/api/languages?fields=id,name,extensions"):
            self.assertEqual(set(language), {"id", "name", "extensions"})
        compilers = self.get_json("/api/compilers/c++?fields=" + self.COMPILER_FIELDS)
        self.assertIn(self.gcc, {c["id"] for c in compilers})
        for c in compilers:
            self.assertTrue({"id", "name", "lang", "compilerType", "instructionSet"} <= set(c))
            self.assertIsInstance(c["libsArr"], list)
            self.assertIsInstance(c["hidden"], bool)
        demo = next(l for l in self.get_json("/api/libraries/c++") if l["id"] == "cexdemo")
        self.assertEqual(demo["description"], "A one-header library of the client tests")
        self.assertEqual(demo["versions"][0]["alias"], ["latest"])

    def test_extended_compiler_fields(self):
        compilers = self.get_json("/api/compilers/c++?fields=" + self.COMPILER_FIELDS +
                                  self.EXTENDED_FIELDS)
        self.assertTrue(compilers)
        for c in compilers:
            self.assertIsInstance(c["tools"], list)
            self.assertIsInstance(c["possibleOverrides"], list)
            self.assertIsInstance(c["possibleRuntimeTools"], list)
            self.assertIsInstance(c["options"], str)
            self.assertIsInstance(c["alias"], list)

    def test_compile_with_null_compiler_options(self):
        result = self.compile_json(self.compile_body(USES_LIBRARY))
        self.assertEqual(result["code"], 0, result["stderr"])
        self.assertIn("f(int):", asm_texts(result))

    def test_compile_check_reads_tags(self):
        result = self.compile_json(self.compile_body(BROKEN))
        for tag in self.assert_error_tags(result, line=2):
            self.assertTrue(tag["text"])

    def test_run(self):
        result = self.compile_json(self.run_body(ECHO))
        # stdin "input" has no newline: the last line comes back without one.
        self.assert_executor_reply(result, 42, ["arg 1: a", "stdin: input"], ["done"])

    def test_run_of_broken_source_says_build_failed(self):
        self.assert_build_failed(self.compile_json(self.run_body(BROKEN)))

    @unittest.skip(NO_CMAKE)
    def test_cmake(self):
        body = {"source": "cmake_minimum_required(VERSION 3.5)\nproject(p)\n"
                          "add_executable(main main.cpp)\n",
                "files": [{"filename": "main.cpp", "contents": PROGRAM}],
                "options": {"compilerOptions": {"executorRequest": False, "cmakeArgs": "",
                                                "customOutputFilename": ""},
                            "filters": self.FILTERS, "libraries": []}}
        result = self.send("POST", f"/api/compiler/{self.gcc}/cmake", body).json()
        self.assertEqual(result["result"]["code"], 0)

    @unittest.skip(NO_ASM_DOCS)
    def test_asm_docs(self):
        self.assertTrue({"tooltip", "html", "url"} <= set(self.get_json("/api/asm/amd64/lea")))

    @unittest.skip(NO_SHORTENER)
    def test_share_url(self):
        state = {"sessions": [{"id": 1, "language": "c++", "source": SQUARE,
                               "compilers": [{"id": self.gcc, "options": "-O2"}]}]}
        url = self.send("POST", "/api/shortener", state).json()["url"]
        info = self.get_json("/api/shortlinkinfo/" + url.rsplit("/", 1)[1])
        self.assertEqual(info["sessions"][0]["source"], SQUARE)


class MalkovskyCompilerExplorerMcp(ClientContract):
    """Malkovsky/compiler-explorer-mcp: httpx, percent-encoded language, dotted library
    fields, picks gcc-latest/clang-latest from the catalogue, rejects executed results."""

    extra_headers = {"User-Agent": "ce-analyzer-mcp/0.3.0"}
    COMPILER_FIELDS = ("id,name,lang,compilerType,compilerCategories,semver,releaseTrack,"
                       "instructionSet,group,groupName,isSemVer,isNightly,emulated,interpreted,"
                       "hidden,supportsBinary,supportsExecute,supportsOptOutput,supportsAsmDocs,"
                       "tools,libsArr")
    LIBRARY_FIELDS = ("id,name,description,url,versions.id,versions.version,versions.name,"
                      "versions.alias,versions.hidden")

    def compile_body(self, source):
        return {"source": source, "lang": "c++", "allowStoreCodeDebug": False,
                "files": [{"filename": "helper.h", "contents": "inline int one() { return 1; }\n"}],
                "options": {"userArguments": "-O2",
                            "compilerOptions": {"skipAsm": False, "skipPopArgs": True,
                                                "executorRequest": False, "overrides": [],
                                                "produceOptInfo": False},
                            "filters": {"binary": False, "binaryObject": False,
                                        "commentOnly": True, "demangle": True,
                                        "directives": True, "execute": False, "intel": True,
                                        "labels": True, "libraryCode": True, "trim": False,
                                        "debugCalls": False},
                            "tools": [{"id": "clangtidytrunk", "args": [], "stdin": ""}],
                            "libraries": [],
                            "executeParameters": {"args": [], "stdin": "", "runtimeTools": []}}}

    def latest(self, compilers, compiler_type):
        """The client's gcc-latest/clang-latest: amd64, a semver, nothing special about it."""
        eligible = [c for c in compilers
                    if c["compilerType"] == compiler_type and c["instructionSet"] == "amd64"
                    and c.get("semver") and not c.get("hidden") and not c.get("isNightly")
                    and not c.get("emulated") and not c.get("interpreted")]
        return eligible[0]["id"] if eligible else None

    def test_version_texts(self):
        for path in ("/api/version", "/api/releaseBuild"):
            r = self.get(path)
            self.assertEqual(r.status, 200)
            self.assertTrue(0 < len(r.text.strip()) <= 512, r.text)

    def test_percent_encoded_catalogue_offers_latest_aliases(self):
        compilers = self.get_json("/api/compilers/c%2B%2B?fields=" + self.COMPILER_FIELDS)
        self.assertTrue(compilers)
        self.assertEqual({c["lang"] for c in compilers}, {"c++"})
        self.assertIsNotNone(self.latest(compilers, "gcc"))
        self.assertIsNotNone(self.latest(compilers, "clang"))
        for c in compilers:
            self.assertIsInstance(c["tools"], list)

    def test_dotted_library_fields(self):
        libraries = self.get_json("/api/libraries/c%2B%2B?fields=" + self.LIBRARY_FIELDS)
        demo = next(l for l in libraries if l["id"] == "cexdemo")
        self.assertEqual(set(demo), {"id", "name", "description", "url", "versions"})
        version = demo["versions"][0]
        self.assertEqual((version["id"], version["version"], version["alias"]),
                         ("100", "1.0.0", ["latest"]))
        self.assertTrue(set(version) <= {"id", "version", "name", "alias", "hidden"}, version)

    def test_compile_result_shape(self):
        body = self.compile_body('#include "helper.h"\n' + SQUARE)
        first = self.compile_json(body)
        self.assertEqual(first["code"], 0, first["stderr"])
        for key in ("timedOut", "truncated", "okToCache"):
            self.assertIsInstance(first[key], bool)
        self.assertNotIn("didExecute", first)
        self.assertNotIn("execResult", first)
        self.assertNotIn("popularArguments", first)
        for line in first["asm"]:
            if line["source"] is not None:
                self.assertTrue({"file", "line"} <= set(line["source"]))
        again = self.compile_json(body)
        self.assertTrue(again.get("retreivedFromCache") or again.get("retrievedFromCache"))

    def test_error_tags(self):
        result = self.compile_json(self.compile_body(BROKEN))
        for tag in self.assert_error_tags(result, line=2):
            self.assertTrue({"line", "column", "severity", "text", "file"} <= set(tag))

    def test_tools_list(self):
        self.assertIsInstance(self.get_json("/api/tools/c%2B%2B"), list)

    @unittest.skip(NO_ASM_DOCS)
    def test_asm_docs(self):
        self.assertIn("tooltip", self.get_json("/api/asm/amd64/mov"))

    @unittest.skip(NO_SHORTENER)
    def test_short_url_has_the_same_origin(self):
        state = {"sessions": [{"id": 1, "language": "c++", "source": SQUARE,
                               "compilers": [{"id": self.gcc, "options": "",
                                              "libs": [{"name": "cexdemo", "ver": "100"}],
                                              "filters": {}}]}]}
        url = self.send("POST", "/api/shortener", state).json()["url"]
        self.assertRegex(url, rf"^http://127\.0\.0\.1:{SERVER.port}/z/[A-Za-z0-9][A-Za-z0-9_-]*$")


class CeStresstest(ClientContract):
    """compiler-explorer/ce-stresstest: executor requests with `bypassCache: 1`; any status
    but 200 counts as an API error."""

    extra_headers = {"User-Agent": "CE-StressTest/1.0"}

    def body(self, source):
        return {"source": source, "bypassCache": 1,
                "options": {"userArguments": "-O1",
                            "executeParameters": {"args": [], "stdin": ""},
                            "compilerOptions": {"executorRequest": True},
                            "filters": {"execute": True, "binary": False, "binaryObject": False,
                                        "labels": True, "libraryCode": True, "directives": True,
                                        "commentOnly": True, "trim": False, "demangle": True,
                                        "intel": True},
                            "tools": [],
                            "libraries": [{"id": "cexdemo", "version": "trunk"}]}}

    def test_program_runs(self):
        result = self.compile_json(self.body(PROGRAM))
        self.assert_executor_reply(result, 3, ["hello"], ["oops"])

    def test_bypass_cache_runs_the_program_every_time(self):
        # A load test measures nothing if replies come from a cache.
        outputs = set()
        for _ in range(3):
            result = self.compile_json(self.body(CLOCK))
            self.assertIs(result["didExecute"], True)
            self.assertEqual(result["code"], 3)
            self.assertEqual(result["stderr"], [])
            self.assertEqual(result["buildResult"]["stdout"], [])
            self.assertEqual(result["buildResult"]["stderr"], [])
            self.assertIsInstance(result["execTime"], int)
            self.assertEqual(len(result["stdout"]), 1)
            outputs.add(result["stdout"][0]["text"])
        self.assertEqual(len(outputs), 3, outputs)


class Cexpl(ClientContract):
    """xfgusta/cexpl: requests, partial bodies, indexes result keys without defaults."""

    extra_headers = {"User-Agent": "python-requests/2.28.1"}

    def test_language_fields(self):
        compiler_ids = {c["id"] for c in self.get_json("/api/compilers?fields=id,name")}
        for fields in ("id,name", "id,defaultCompiler", "name,extensions,defaultCompiler"):
            with self.subTest(fields=fields):
                for language in self.get_list("/api/languages?fields=" + fields):
                    self.assertEqual(set(language), set(fields.split(",")))
                    if "defaultCompiler" in language:
                        self.assertIn(language["defaultCompiler"], compiler_ids)

    def test_compiler_lists(self):
        for path in ("/api/compilers?fields=id,name", "/api/compilers/c++?fields=id,name"):
            compilers = self.get_json(path)
            self.assertTrue(compilers)
            for c in compilers:
                self.assertEqual(set(c), {"id", "name"})

    def test_partial_bodies_give_every_indexed_key(self):
        variants = [
            {"compilerOptions": {"skipAsm": False}},
            {"filters": {"execute": False}, "executeParameters": {}},
            {"filters": {"execute": False}, "executeParameters": {"args": [], "stdin": ""}},
        ]
        for i, options in enumerate(variants):
            for lang in (None, "c++"):
                with self.subTest(options=options, lang=lang):
                    body = {"source": SQUARE + f"// variant {i}\n",
                            "options": dict(options, userArguments="-O1")}
                    if lang:
                        body["lang"] = lang
                    result = self.compile_json(body)
                    for line in result["asm"]:
                        self.assertIsInstance(line["text"], str)
                        self.assertIn("source", line)
                    for key in ("stdout", "stderr", "code", "compilationOptions"):
                        self.assertIn(key, result)
                    self.assertIn("-O1", result["compilationOptions"])

    def test_unknown_compiler(self):
        r = self.compile({"source": SQUARE, "options": {}}, compiler="nosuchcompiler")
        self.assertEqual(r.status, 404)

    def test_execute_filter(self):
        variants = [({}, 41, []),
                    ({"args": [], "stdin": ""}, 41, []),
                    ({"args": ["x"], "stdin": "hello\n"}, 42, ["arg 1: x", "stdin: hello"])]
        for params, code, stdout in variants:
            for lang in (None, "c++"):
                with self.subTest(executeParameters=params, lang=lang):
                    body = {"source": ECHO, "options": {"userArguments": "",
                                                        "filters": {"execute": True},
                                                        "executeParameters": params}}
                    if lang:
                        body["lang"] = lang
                    result = self.compile_json(body)
                    # Every key the client indexes, each a KeyError if it were missing.
                    for line in result["asm"]:
                        self.assertIsInstance(line["text"], str)
                        self.assertIn("source", line)
                    self.assertEqual((result["code"], result["stdout"], result["stderr"]),
                                     (0, [], []))
                    self.assertIsInstance(result["compilationOptions"], list)
                    run = result["execResult"]
                    self.assertEqual(run["buildResult"]["code"], 0)
                    self.assertIs(run["didExecute"], True)
                    self.assertEqual(texts(run["stdout"]), stdout)
                    self.assertEqual(texts(run["stderr"]), ["done"])
                    self.assertEqual(run["code"], code)


class TuxBot(ClientContract):
    """allthingslinux/tux: httpx's `Accept: */*` gets text; the bot slices the text reply by
    lines, so its layout must be exact."""

    accept = "*/*"
    extra_headers = {"User-Agent": "python-httpx/0.27.0"}

    def body(self, source, compiler):
        return {"source": source, "lang": compiler, "allowStoreCodeDebug": True,
                "options": {"userArguments": "-O2",
                            "compilerOptions": {"skipAsm": False, "executorRequest": False},
                            "filters": {"binary": False, "binaryObject": False,
                                        "commentOnly": True, "demangle": True,
                                        "directives": True, "execute": False, "intel": True,
                                        "labels": True, "libraryCode": True, "trim": True,
                                        "debugCalls": False}}}

    def text_and_json(self, source, accept):
        """The text reply to a client sending `accept` (None: no Accept header) and, for
        comparison, the JSON of the same compile."""
        self.accept = accept
        r = self.compile(self.body(source, self.gcc))
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain"))
        self.accept = "application/json"
        result = self.compile_json(self.body(source, self.gcc))
        return r.text, result

    def test_text_tables(self):
        for path, json_path, header in (
                ("/api/languages", "/api/languages", r"^Id *\| Name$"),
                ("/api/compilers", "/api/compilers", r"^Compiler Name *\| Name$"),
                ("/api/compilers/c++", "/api/compilers/c++", r"^Compiler Name *\| Name$")):
            with self.subTest(path=path):
                r = self.get(path)
                self.assertTrue(r.header("content-type").startswith("text/plain"))
                lines = r.text.split("\n")
                self.assertRegex(lines[0], header)
                self.accept = "application/json"
                try:
                    ids = sorted(entry["id"] for entry in self.get_json(json_path))
                finally:
                    self.accept = "*/*"
                self.assertEqual(sorted(row.split(" ")[0] for row in lines[1:]), ids)

    def test_asm_text_layout(self):
        # httpx sends `*/*`; without any Accept the reply is text as well.
        for accept in ("*/*", None):
            with self.subTest(accept=accept):
                text, result = self.text_and_json(SQUARE, accept)
                lines = text.split("\n")
                self.assertEqual(lines[0], BANNER)
                self.assertEqual(lines[1:-1], asm_texts(result))
                self.assertEqual(lines[-1], "")

    def test_error_text_layout(self):
        text, result = self.text_and_json(BROKEN, "*/*")
        expected = [BANNER, "<Compilation failed>",
                    f"# Compiler exited with result code {result['code']}",
                    "Standard error:"] + [l["text"] for l in result["stderr"]] + [""]
        self.assertEqual(text.split("\n"), expected)

    def test_execution_text_layout(self):
        body = self.body(MULTILINE, self.gcc)
        body["options"]["compilerOptions"]["skipAsm"] = True
        body["options"]["filters"]["execute"] = True
        r = self.compile(body)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain"))
        lines = r.text.split("\n")
        self.assertEqual(lines[:5], [BANNER, "", "", "# Execution result with exit code 5",
                                     "# Standard out:"])
        # The bot drops those five lines and shows the rest as the program's output.
        self.assertEqual("\n".join(lines[5:]), MULTILINE_OUTPUT)


class AiocatGodboltCli(ClientContract):
    """aiocat/godbolt-cli: an executor request with no Accept header, `args` as a string; it
    prints the reply as text."""

    accept = None

    def body(self, source):
        return {"source": source,
                "options": {"userArguments": "",
                            "executeParameters": {"args": "", "stdin": ""},
                            "compilerOptions": {"executorRequest": True, "skipAsm": True},
                            "filters": {"execute": True}}}

    def test_run_reply_is_printed_as_it_comes(self):
        clean_exit = '#include <cstdio>\nint main() { std::puts("hi"); }\n'
        cases = [
            (PROGRAM, "\n# Compiler exited with result code 3\nStandard out:\nhello\n"
                      "Standard error:\noops\n"),
            (clean_exit, "\nStandard out:\nhi\n"),
            (BROKEN, "\n# Compiler exited with result code -1\nStandard error:\nBuild failed\n"),
        ]
        for source, after_banner in cases:
            with self.subTest(source=source):
                r = self.compile(self.body(source))
                self.assertEqual(r.status, 200)
                self.assertTrue(r.header("content-type").startswith("text/plain"),
                                r.header("content-type"))
                self.assertEqual(r.text, BANNER + "\n" + after_banner)


class RevealCompilerExplorer(ClientContract):
    """reveal-compiler-explorer directives: JSON, one `filters.execute` key, libraries by
    version id or alias; only 200 is accepted."""

    def body(self, version):
        return {"source": USES_LIBRARY,
                "options": {"userArguments": "-O2", "filters": {"execute": False},
                            "libraries": [{"id": "cexdemo", "version": version}]}}

    def test_library_by_id_or_alias(self):
        for version in ("100", "latest"):
            with self.subTest(version=version):
                result = self.compile_json(self.body(version))
                self.assertEqual(result["code"], 0, result["stderr"])
                self.assertIn("f(int):", asm_texts(result))
                self.assertIsInstance(result["stdout"], list)
                self.assertIsInstance(result["stderr"], list)

    def test_execute_directive(self):
        # The program is built and run with the library too, whichever way it is named.
        for version in ("100", "latest"):
            with self.subTest(version=version):
                body = self.body(version)
                body["source"] = USES_LIBRARY_PROGRAM
                body["options"]["filters"]["execute"] = True
                result = self.compile_json(body)
                self.assertEqual((result["code"], result["stdout"], result["stderr"]),
                                 (0, [], []))
                run = result["execResult"]
                self.assertEqual(run["code"], 4)
                self.assertEqual(texts(run["stdout"]), ["42"])
                self.assertEqual(run["stderr"], [])
                self.assertEqual(run["buildResult"]["stderr"], [])


if __name__ == "__main__":
    unittest.main()
