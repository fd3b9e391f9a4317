"""Running the user's program: filters.execute, executorRequest, limits on output and time."""

import unittest

from cexlib import CexServer, first_compiler

ECHO_ARGC = ("#include <stdio.h>\n"
             "int main(int argc, char** argv) {\n"
             "  char buf[100];\n"
             "  while (fgets(buf, sizeof buf, stdin)) fputs(buf, stdout);\n"
             "  return argc;\n"
             "}\n")


def execute_body(source, args=None, stdin="", executor=False, **extra):
    options = {"filters": {"execute": True},
               "executeParameters": {"args": args or [], "stdin": stdin}}
    if executor:
        options["compilerOptions"] = {"executorRequest": True}
    options.update(extra)
    return {"source": source, "options": options}


class ExecutionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = CexServer()
        cls.server.start()
        cls.cc = first_compiler(cls.server, "c", "gcc")
        cls.cxx = first_compiler(cls.server, "c++", "gcc")

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def run_json(self, body, compiler=None):
        r = self.server.compile_json(compiler or self.cc, body)
        self.assertEqual(r.status, 200, r.body[:300])
        return r.json()

    # 15
    def test_stdin_args_and_exit_code(self):
        result = self.run_json(execute_body(ECHO_ARGC, ["a"], "hi\n"))
        self.assertEqual(result["code"], 0)
        run = result["execResult"]
        self.assertEqual(run["code"], 2)
        self.assertIs(run["didExecute"], True)
        self.assertEqual(run["stdout"], [{"text": "hi"}])
        self.assertEqual(run["stderr"], [])
        self.assertEqual(run["buildResult"]["code"], 0)
        text = self.server.compile_json(self.cc, execute_body(ECHO_ARGC, ["a"], "hi\n"),
                                        accept=None).text
        self.assertIn("\n\n# Execution result with exit code 2\n# Standard out:\nhi\n", text)

    # 16
    def test_executor_request_answers_with_the_run_alone(self):
        result = self.run_json(execute_body(ECHO_ARGC, ["x", "y"], "one\ntwo\n", executor=True))
        self.assertNotIn("asm", result)
        self.assertIs(result["didExecute"], True)
        self.assertEqual(result["code"], 3)
        self.assertEqual([l["text"] for l in result["stdout"]], ["one", "two"])
        self.assertEqual(result["buildResult"]["code"], 0)

    # 17
    def test_timeout_keeps_output(self):
        source = ("#include <stdio.h>\nint main(void) {\n  printf(\"before\\n\");\n"
                  "  for (;;) {}\n}\n")
        run = self.run_json(execute_body(source))["execResult"]
        self.assertIs(run["timedOut"], True)
        self.assertIs(run["okToCache"], False)
        self.assertEqual(run["stdout"], [{"text": "before"}])
        self.assertEqual(run["stderr"][-1]["text"], "Killed - processing time exceeded")

    # 18
    def test_output_is_capped(self):
        source = ("#include <stdio.h>\nint main(void) {\n"
                  "  for (int i = 0; i < 100000; ++i) printf(\"line %d\\n\", i);\n}\n")
        run = self.run_json(execute_body(source))["execResult"]
        self.assertIs(run["truncated"], True)
        self.assertTrue(run["stdout"][-1]["text"].endswith("[Truncated]"))
        total = sum(len(l["text"]) + 1 for l in run["stdout"])
        self.assertLessEqual(total, 32 * 1024 + 1)

    def test_crash_keeps_what_was_printed_and_names_the_signal(self):
        source = ("#include <stdio.h>\nint main(void) {\n  printf(\"about to crash\\n\");\n"
                  "  volatile int* p = 0;\n  return *p;\n}\n")
        run = self.run_json(execute_body(source))["execResult"]
        self.assertEqual(run["code"], -1)
        self.assertEqual(run["stdout"], [{"text": "about to crash"}])
        self.assertIn("SIGSEGV", run["stderr"][-1]["text"])

    def test_binary_output_is_valid_json(self):
        source = ("#include <stdio.h>\nint main(void) {\n"
                  "  fwrite(\"a\\0b\\xff\\xfe\\n\", 1, 6, stdout);\n  return 0;\n}\n")
        r = self.server.compile_json(self.cc, execute_body(source))
        r.body.decode("utf-8")  # strictly valid UTF-8
        run = r.json()["execResult"]
        self.assertEqual(len(run["stdout"]), 1)
        self.assertTrue(run["stdout"][0]["text"].startswith("a\u0000b"))

    def test_runtime_tool_environment(self):
        source = ("#include <stdio.h>\n#include <stdlib.h>\n"
                  "int main(void) { puts(getenv(\"CEX_TEST_VAR\")); return 0; }\n")
        body = execute_body(source)
        body["options"]["executeParameters"]["runtimeTools"] = [
            {"name": "env", "options": [{"name": "CEX_TEST_VAR", "value": "from the request"}]}]
        run = self.run_json(body)["execResult"]
        self.assertEqual(run["stdout"], [{"text": "from the request"}])

    def test_build_failure(self):
        run = self.run_json(execute_body("int main( {", executor=True))
        self.assertIs(run["didExecute"], False)
        self.assertNotEqual(run["buildResult"]["code"], 0)
        self.assertEqual(run["stderr"], [{"text": "Build failed"}])

    def test_cached_and_bypassed_runs(self):
        source = ("#include <stdio.h>\n#include <time.h>\n"
                  "int main(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);\n"
                  "  printf(\"%ld\\n\", t.tv_nsec); return 0; }\n")
        first = self.run_json(execute_body(source, executor=True))
        second = self.run_json(execute_body(source, executor=True))
        self.assertEqual(first["stdout"], second["stdout"])
        third = self.run_json(dict(execute_body(source, executor=True), bypassCache=2))
        self.assertNotEqual(first["stdout"], third["stdout"])

    def test_cxx_program_and_compile_cache_hit(self):
        source = "#include <iostream>\nint main() { std::cout << 6 * 7 << '\\n'; }\n"
        first = self.run_json(execute_body(source), self.cxx)
        second = self.run_json(execute_body(source), self.cxx)
        self.assertIs(second.get("retreivedFromCache"), True)
        for result in (first, second):
            self.assertEqual(result["execResult"]["stdout"], [{"text": "42"}])

    def test_listing_says_execution_is_supported(self):
        compilers = self.server.get_json("/api/compilers/c?fields=id,supportsExecute")
        self.assertTrue(all(c["supportsExecute"] for c in compilers))


if __name__ == "__main__":
    unittest.main()
