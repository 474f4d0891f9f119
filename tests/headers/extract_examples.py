#!/usr/bin/env python3
# Turns the example of a public header's overview comment into a .cc file that
# compiles it (tests/headers/CMakeLists.txt), so that include/ cannot rot.
# Usage: extract_examples.py HEADER INCLUDE_NAME OUT.cc   (e.g. .../pair.h
# msock/protocols/pair.h out/pair_example.cc). Fails if the header has none.
"""Extracts the examples of a public header's overview into a compiled .cc.

An example is a line starting "// Example" (its heading may run over several
lines and ends with ':'), followed by the code: consecutive comment lines
indented by at least three spaces ("//   code"). The code becomes the body of a
function, or stays at namespace scope when the heading says "at namespace
scope"; its #include lines go to the top of the file. Only the overview (the
comments before the first line of code) is searched.
"""

import re
import sys

PRELUDE = """\
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
"""


def overview(lines):
  """The leading comment lines of a header."""
  out = []
  for line in lines:
    if not line.startswith("//"):
      break
    out.append(line)
  return out


def examples(comment):
  """Yields (namespace_scope, code lines) for each example in `comment`."""
  i = 0
  while i < len(comment):
    if not re.match(r"^// Example\b", comment[i]):
      i += 1
      continue
    heading = comment[i]
    while not comment[i].rstrip().endswith(":"):
      i += 1
      if i == len(comment):
        raise ValueError("example heading without a closing ':'")
      heading += " " + comment[i]
    i += 1
    code = []
    while i < len(comment) and comment[i].startswith("//   "):
      code.append(comment[i][len("//   "):])
      i += 1
    if not code:
      raise ValueError("example without code: " + heading)
    yield ("at namespace scope" in heading, code)


def main(argv):
  header, include_name, out_path = argv[1:4]
  with open(header, encoding="utf-8") as f:
    lines = f.read().split("\n")
  found = list(examples(overview(lines)))
  if not found:
    sys.exit(f"{header}: the overview has no example (a '// Example:' line "
             "followed by '//   code' lines); every public header needs one")
  ident = re.sub(r"\W", "_", include_name[len("msock/"):-len(".h")])
  includes, scope, functions = [], [], []
  for n, (at_scope, code) in enumerate(found):
    body = []
    for line in code:
      (includes if line.startswith("#include") else body).append(line)
    if at_scope:
      scope += body + [""]
    else:
      functions.append(f"void Example{n}() {{")
      functions += ["  " + line for line in body]
      functions += ["}", ""]
  out = [
      f"// Generated from {include_name} by tests/headers/extract_examples.py:",
      "// the examples of its overview, compiled so that they cannot rot.",
      "// Edit the header, not this file.",
      f'#include "{include_name}"  // first: the header stands on its own',
      "",
      PRELUDE,
  ]
  out += includes + ["", f"namespace msock_example_{ident} {{", ""]
  out += scope + functions
  out += [
      f"TEST(HeaderExamples, {ident}) {{",
      f"  // Compiling and linking is the test; {len(found)} example(s).",
      "  SUCCEED();",
      "}",
      "",
      f"}}  // namespace msock_example_{ident}",
      "",
  ]
  with open(out_path, "w", encoding="utf-8") as f:
    f.write("\n".join(out))


if __name__ == "__main__":
  main(sys.argv)
