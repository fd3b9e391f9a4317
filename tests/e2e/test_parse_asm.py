"""`cex parse-asm` against the golden corpus of Compiler Explorer's filter outputs."""

import glob
import json
import os
import subprocess
import unittest

from cexlib import CEX_BIN, SOURCE_DIR

SHARED = os.environ.get("CEX_SHARED_DIR") or os.path.join(SOURCE_DIR, "..", "shared")
CORPUS = os.path.join(SHARED, "corpus", "ce-filters")

SUFFIX_FILTERS = {
    "none": [],
    "directives": ["directives"],
    "directives.labels": ["directives", "labels"],
    "directives.labels.comments": ["directives", "labels", "commentOnly"],
    "directives.comments": ["directives", "commentOnly"],
    "directives.library": ["directives", "libraryCode"],
    "directives.labels.comments.library": ["directives", "labels", "commentOnly", "libraryCode"],
    "directives.labels.comments.library.dontMaskFilenames":
        ["directives", "labels", "commentOnly", "libraryCode", "dontMaskFilenames"],
}


def cli_arguments(case, suffix):
    binary = suffix.startswith("binary.")
    names = SUFFIX_FILTERS[suffix[len("binary."):] if binary else suffix]
    args = ["--filters", ",".join(names)]
    if binary:
        args.append("--binary")
    for dialect in ("sass", "ptx", "ca65", "cc65"):
        if f"{dialect}-" in case:
            args += ["--dialect", dialect]
    return args


@unittest.skipUnless(os.path.isdir(CORPUS), f"no golden corpus at {CORPUS} (set CEX_SHARED_DIR)")
class ParseAsmCorpusTest(unittest.TestCase):
    def test_every_expectation(self):
        expectations = sorted(glob.glob(os.path.join(CORPUS, "*.asm.*.json")))
        self.assertGreaterEqual(len(expectations), 543)
        failures = []
        for path in expectations:
            name = os.path.basename(path)
            case, suffix = name.split(".asm.", 1)
            suffix = suffix[:-len(".json")]
            argv = [CEX_BIN, "parse-asm"] + cli_arguments(case, suffix)
            argv.append(os.path.join(CORPUS, case + ".asm"))
            out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
            got = json.loads(out)
            # Timing fields are not part of the expectations.
            self.assertIsInstance(got.pop("parsingTime"), int)
            self.assertIsInstance(got.pop("filteredCount"), int)
            with open(path) as f:
                expected = json.load(f)
            if got != expected:
                failures.append(name)
        self.assertEqual(failures, [])

    def test_oversized_listing_gives_the_placeholder(self):
        listing = os.path.join(CORPUS, "bintest-1.asm")
        out = subprocess.run([CEX_BIN, "parse-asm", "--max-size", "1000", listing],
                             capture_output=True, text=True, check=True).stdout
        size = os.path.getsize(listing)
        self.assertEqual(json.loads(out)["asm"][0]["text"],
                         f"<No output: generated assembly was too large ({size} > 1000 bytes)>")

    def test_unknown_filter_is_refused(self):
        r = subprocess.run([CEX_BIN, "parse-asm", "--filters", "labels,nope",
                            os.path.join(CORPUS, "bintest-1.asm")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown filter nope", r.stderr)


if __name__ == "__main__":
    unittest.main()
