"""The conformance checks of the Compiler Explorer API, against real gcc and clang."""

import json
import unittest

from cexlib import CexServer, asm_texts, first_compiler, is_instruction

SQUARE = "int square(int n) {\n    return n * n;\n}\n"
BANNER = "# Compilation provided by Compiler Explorer at https://godbolt.org/\n"


class ConformanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = CexServer()
        cls.server.start()
        cls.gcc = first_compiler(cls.server, "c++", "gcc")
        cls.clang = first_compiler(cls.server, "c++", "clang")

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    # 1
    def test_compilers_text_table(self):
        r = self.server.get("/api/compilers")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain"))
        lines = r.text.split("\n")
        self.assertRegex(lines[0], r"^Compiler Name *\| Name$")
        width = lines[0].index(" | ")
        ids = {c["id"] for c in self.server.get_json("/api/compilers")}
        for row in lines[1:]:
            self.assertEqual(row.index(" | "), width, row)
            self.assertIn(row[:width].rstrip(), ids)
        self.assertEqual(len(lines) - 1, len(ids))
        self.assertFalse(r.text.endswith("\n"))

    # 2
    def test_compilers_fields_sorted_by_name(self):
        compilers = self.server.get_json("/api/compilers?fields=id,name")
        self.assertGreaterEqual(len(compilers), 2)
        for c in compilers:
            self.assertEqual(set(c), {"id", "name"})
        names = [c["name"] for c in compilers]
        self.assertEqual(names, sorted(names))

    # 3
    def test_compilers_for_language_and_default_keys(self):
        compilers = self.server.get_json("/api/compilers/c++")
        self.assertTrue(compilers)
        for c in compilers:
            self.assertEqual(c["lang"], "c++")
            self.assertEqual(set(c), {"id", "name", "lang", "compilerType", "semver", "instructionSet"})
        self.assertEqual(self.server.get_json("/api/compilers/nosuchlang"), [])
        # A percent-encoded language reaches the same list.
        self.assertEqual(self.server.get_json("/api/compilers/c%2B%2B"), compilers)

    # 4
    def test_languages(self):
        languages = self.server.get_json("/api/languages")
        ids = {l["id"] for l in languages}
        self.assertTrue({"c++", "c"} <= ids)
        for l in languages:
            self.assertEqual(set(l), {"id", "name", "extensions", "monaco"})
        full = self.server.get_json("/api/languages?fields=all")
        cpp = next(l for l in full if l["id"] == "c++")
        compiler_ids = {c["id"] for c in self.server.get_json("/api/compilers/c++")}
        self.assertIn(cpp["defaultCompiler"], compiler_ids)
        text = self.server.get("/api/languages").text.split("\n")
        self.assertRegex(text[0], r"^Id *\| Name$")

    # 5
    def test_libraries(self):
        self.assertEqual(self.server.get_json("/api/libraries/nosuchlang"), [])
        self.assertIsInstance(self.server.get_json("/api/libraries/c++"), list)

    # 6
    def test_cors_and_cache_headers(self):
        r = self.server.request("OPTIONS", "/api/compiler/x/compile")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("access-control-allow-origin"), "*")
        self.assertEqual(r.header("access-control-allow-headers"),
                         "Origin, X-Requested-With, Content-Type, Accept")
        for path in ("/api/compilers", "/api/languages", "/api/libraries/c++"):
            r = self.server.get(path)
            self.assertEqual(r.header("access-control-allow-origin"), "*")
            self.assertRegex(r.header("cache-control"), r"^public, max-age=\d+$")

    # 7
    def test_unknown_compiler(self):
        r = self.server.compile_json("NOPE", {"source": "", "options": {}})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.text, "Not Found")

    # 8
    def test_wrong_method(self):
        r = self.server.request("DELETE", "/api/compilers")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.text, "Method Not Allowed")

    # 9
    def test_text_compile_with_form_content_type(self):
        r = self.server.compile_text(self.gcc, "int f(){return 1;}", "options=-O2")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain"))
        self.assertTrue(r.text.startswith(BANNER), r.text)
        self.assertTrue(r.text.endswith("\n"))
        self.assertIn("f():", r.text)
        self.assertIn("mov", r.text)

    # 10
    def test_text_compile_as_json(self):
        r = self.server.compile_text(self.gcc, "int f(){return 1;}", "options=-O2",
                                     accept="application/json")
        result = r.json()
        self.assertEqual(result["code"], 0)
        for line in result["asm"]:
            self.assertTrue({"text", "source", "labels"} <= set(line))
        self.assertIn("f()", result["labelDefinitions"])
        self.assertIn("-O2", result["compilationOptions"])
        self.assertIn("example.cpp", result["compilationOptions"])
        self.assertNotIn("s3Key", result)
        # One line of compact JSON.
        self.assertNotIn(b"\n", r.body)

    # 11
    def test_text_filters_replace_and_add(self):
        default = self.server.compile_text(self.gcc, SQUARE, "options=-O2",
                                           accept="application/json").json()
        intel_only = self.server.compile_text(self.gcc, SQUARE, "options=-O2&filters=intel",
                                              accept="application/json").json()
        directive = lambda r: [t for t in asm_texts(r) if t.strip().startswith(".")]
        self.assertEqual(directive(default), [])
        self.assertTrue(directive(intel_only))
        self.assertGreater(len(intel_only["asm"]), len(default["asm"]))
        binary = self.server.compile_text(self.gcc, SQUARE, "options=-O2&addFilters=binary",
                                          accept="application/json").json()
        with_address = [l for l in binary["asm"] if "address" in l]
        self.assertTrue(with_address)
        self.assertTrue(all(l["opcodes"] for l in with_address))

    # 12
    def test_missing_properties(self):
        r = self.server.compile_json(self.gcc, {"source": SQUARE})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json(), {"error": True, "message": "Missing options property"})
        r = self.server.compile_json(self.gcc, {"options": {}})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json(), {"error": True, "message": "Missing source property"})

    # 13
    def test_empty_text_body(self):
        r = self.server.compile_text(self.gcc, "")
        self.assertEqual(r.status, 500)

    # 14
    def test_compile_error(self):
        bad = "int square(int n) {\n    return n * n\n}\n"
        for compiler in (self.gcc, self.clang):
            result = self.server.compile_json(compiler, {"source": bad, "options": {}}).json()
            self.assertNotEqual(result["code"], 0)
            self.assertEqual(result["asm"], [{"text": "<Compilation failed>", "source": None, "labels": []}])
            tagged = [l for l in result["stderr"] if "tag" in l and l["tag"]["severity"] == 3]
            self.assertTrue(tagged, result["stderr"])
            tag = tagged[0]["tag"]
            self.assertEqual(tag["file"], "example.cpp")
            self.assertIn(tag["line"], (2, 3))
            self.assertGreater(tag["column"], 0)
            self.assertIn("<source>:", tagged[0]["text"])
            text = self.server.compile_text(compiler, bad).text
            self.assertIn("\n# Compiler exited with result code " + str(result["code"]), text)
            self.assertIn("\nStandard error:\n", text)

    # 19
    def test_result_cache(self):
        body = {"source": SQUARE + "// cache test\n", "options": {"userArguments": "-O1"}}
        first = self.server.compile_json(self.gcc, body).json()
        self.assertNotIn("retreivedFromCache", first)
        second = self.server.compile_json(self.gcc, body).json()
        self.assertIs(second["retreivedFromCache"], True)
        self.assertEqual(second["asm"], first["asm"])
        bypass = self.server.compile_json(self.gcc, dict(body, bypassCache=1)).json()
        self.assertNotIn("retreivedFromCache", bypass)

    # 20
    def test_skip_asm_and_popular_arguments(self):
        body = {"source": SQUARE, "options": {"compilerOptions": {"skipAsm": True}}}
        result = self.server.compile_json(self.gcc, body).json()
        self.assertEqual(result["asm"], [])
        self.assertIn("popularArguments", result)
        body = {"source": SQUARE, "options": {"compilerOptions": {"skipPopArgs": True}}}
        result = self.server.compile_json(self.gcc, body).json()
        self.assertNotIn("popularArguments", result)
        self.assertTrue(result["asm"])

    # 21
    def test_files(self):
        body = {"source": SQUARE, "options": {}, "files": [{"filename": "../x.h", "contents": ""}]}
        result = self.server.compile_json(self.gcc, body).json()
        self.assertEqual(result["code"], -1)
        self.assertIn("<Invalid filename>", [l["text"] for l in result["stderr"]])
        header = "inline int twice(int x) {\n  return x * 2;\n}\n"
        source = '#include "helper.h"\nint call(int v) { return twice(v) + 1; }\n'
        body = {"source": source, "options": {"userArguments": "-O0"},
                "files": [{"filename": "helper.h", "contents": header}]}
        result = self.server.compile_json(self.gcc, body).json()
        self.assertEqual(result["code"], 0, result["stderr"])
        files = {l["source"]["file"] for l in result["asm"] if l["source"]}
        self.assertIn("helper.h", files)
        self.assertIn("example.cpp", files)

    # 22
    def test_forbidden_options(self):
        body = {"source": SQUARE, "options": {"userArguments": "-fplugin=x"}}
        r = self.server.compile_json(self.gcc, body)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"code": -1, "stdout": [], "stderr": [{"text": "Bad options: -fplugin=x"}]})

    def test_every_instruction_of_gcc_and_clang_has_a_source(self):
        for compiler in (self.gcc, self.clang):
            result = self.server.compile_json(
                compiler, {"source": SQUARE, "options": {"userArguments": "-O2"}}).json()
            self.assertEqual(result["code"], 0)
            instructions = [l for l in result["asm"] if is_instruction(l["text"])]
            self.assertTrue(instructions)
            for line in instructions:
                self.assertIsNotNone(line["source"], line)
                self.assertIsNone(line["source"]["file"])
                self.assertIn(line["source"]["line"], (1, 2, 3))

    def test_malformed_percent_encoding(self):
        r = self.server.get("/api/compilers/%ZZ")
        self.assertEqual(r.status, 400)
        self.assertEqual(self.server.get("/api/compilers/c%2b%2b").status, 200)

    def test_healthcheck(self):
        r = self.server.get("/healthcheck")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.text, "Everything is awesome")
        self.assertIsNone(r.header("access-control-allow-origin"))


if __name__ == "__main__":
    unittest.main()
