#!/usr/bin/env python3
"""Fails when a file of one layer includes a header of a layer above it.

msock's layers, bottom up: base <- transports <- socket <- protocols. A layer may
include its own headers, those of the layers beneath it and the public headers
(msock/...). Run by the build (the msock_layers target), so an include in the
wrong direction stops it:  python3 cmake/check_layers.py SOURCE_DIR
"""
import pathlib
import re
import sys

LAYERS = ["base", "transports", "socket", "protocols"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    bad = []
    for rank, layer in enumerate(LAYERS):
        allowed = set(LAYERS[: rank + 1])
        for path in sorted((root / layer).rglob("*")):
            if path.suffix not in (".h", ".cc"):
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                top = m.group(1).split("/", 1)[0]
                if top in LAYERS and top not in allowed:
                    bad.append(f"{path.relative_to(root)}:{n}: {layer}/ may not "
                               f"include {m.group(1)} ({top}/ is above it)")
    for b in bad:
        print(b, file=sys.stderr)
    if bad:
        print("layering: base <- transports <- socket <- protocols "
              "(a layer includes only itself and the layers beneath)",
              file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
