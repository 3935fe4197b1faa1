#!/bin/sh
# Checks what the comments in Sources/, Tests/ and Fuzz/ cite (docs/ARCHITECTURE.md, "Modules and
# their arrows" says why the design lives in docs/):
#   - no citation of a file outside the repository: SPEC (SPEC §N, SPEC.md), DESIGN.md, ../shared/;
#   - every section cited as  docs/FILE.md, "Heading"  is a heading of that file.
# Only comments are looked at (// and /* */ in Swift and C sources; string literals are skipped).
# Prints file:line: message for each problem and exits 1 when there is one, 0 otherwise.
# Usage: scripts/check-citations.sh [FOLDER...]   (default: Sources Tests Fuzz)
set -eu
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import os, re, sys

roots = sys.argv[1:] or ["Sources", "Tests", "Fuzz"]
EXTENSIONS = (".swift", ".h", ".c")
OUTSIDE = [
    (re.compile(r"\bSPEC\b"), "cites SPEC, a file outside the repository"),
    (re.compile(r"\bDESIGN\.md\b"), "cites DESIGN.md, a file outside the repository"),
    (re.compile(r"(\.\./)+shared/|/work/shared\b"), "cites ../shared, outside the repository"),
]
CITATION = re.compile(r'docs/([A-Za-z0-9_-]+\.md),\s*"([^"]+)"')
# A citation cut by a line break after the comma: the heading is on the next comment line.
CUT = re.compile(r'docs/([A-Za-z0-9_-]+\.md),\s*$')
LEADING_QUOTE = re.compile(r'^\s*"([^"]+)"')

headings = {}
def headings_of(name):
    if name not in headings:
        path = os.path.join("docs", name)
        found = None
        if os.path.isfile(path):
            found = set()
            fenced = False
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.startswith("```"):
                        fenced = not fenced
                    elif not fenced:
                        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
                        if m:
                            found.add(m.group(1))
        headings[name] = found
    return headings[name]

def comments(path):
    """(line number, comment text) for each line that holds comment text."""
    result = []
    in_block = False      # inside /* */
    in_multiline = False  # inside a """ string
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    for number, line in enumerate(lines, 1):
        i, n = 0, len(line)
        text = []
        stack = []  # string contexts: "s" (single-line string) or an int (interpolation depth)
        while i < n:
            c = line[i]
            if in_block:
                end = line.find("*/", i)
                if end < 0:
                    text.append(line[i:]); i = n
                else:
                    text.append(line[i:end]); i = end + 2; in_block = False
                continue
            if in_multiline:
                end = line.find('"""', i)
                if end < 0:
                    i = n
                else:
                    i = end + 3; in_multiline = False
                continue
            if stack and stack[-1] == "s":
                if c == "\\" and line.startswith("\\(", i):
                    stack.append(0); i += 2
                elif c == "\\":
                    i += 2
                elif c == '"':
                    stack.pop(); i += 1
                else:
                    i += 1
                continue
            # code (top level or inside an interpolation)
            if line.startswith('"""', i):
                in_multiline = True; i += 3
            elif c == '"':
                stack.append("s"); i += 1
            elif line.startswith("//", i):
                text.append(line[i + 2:]); i = n
            elif line.startswith("/*", i):
                in_block = True; i += 2
            elif stack and c == "(":
                stack[-1] += 1; i += 1
            elif stack and c == ")":
                if stack[-1] == 0:
                    stack.pop()
                else:
                    stack[-1] -= 1
                i += 1
            else:
                i += 1
        if text:
            result.append((number, " ".join(text)))
    return result

problems = []
for root in roots:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(EXTENSIONS):
                continue
            path = os.path.join(folder, name)
            found = comments(path)
            for index, (number, text) in enumerate(found):
                for pattern, message in OUTSIDE:
                    if pattern.search(text):
                        problems.append(f"{path}:{number}: {message}")
                cited = [(m.group(1), m.group(2)) for m in CITATION.finditer(text)]
                cut = CUT.search(text)
                if cut and index + 1 < len(found) and found[index + 1][0] == number + 1:
                    following = LEADING_QUOTE.match(found[index + 1][1].lstrip("/ "))
                    if following:
                        cited.append((cut.group(1), following.group(1)))
                for document, heading in cited:
                    known = headings_of(document)
                    if known is None:
                        problems.append(f"{path}:{number}: cites docs/{document}, which does not exist")
                    elif heading not in known:
                        problems.append(f'{path}:{number}: cites docs/{document}, "{heading}": no such heading there')

for problem in problems:
    print(problem)
if problems:
    print(f"check-citations: {len(problems)} problem{'s' if len(problems) != 1 else ''}", file=sys.stderr)
    sys.exit(1)
PY
