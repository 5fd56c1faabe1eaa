#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Check that chart files are well-formed images, by extension: .png has the PNG signature and
ends with an IEND chunk; .svg parses with Python's XML parser and has an <svg> root with a
positive width; .pdf starts with %PDF- and ends with %%EOF.  Each file must exceed 1000 bytes.

usage: imgcheck.py FILE...      exit 0 if all are valid, 1 with the first problem otherwise
"""
import sys
import xml.etree.ElementTree as ET


def check(path):
    data = open(path, "rb").read()
    if len(data) <= 1000:
        return "only %d bytes" % len(data)
    if path.endswith(".png"):
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[-8:-4] != b"IEND":
            return "not a PNG (signature or IEND chunk)"
    elif path.endswith(".svg"):
        try:
            root = ET.fromstring(data)
        except ET.ParseError as e:
            return "SVG does not parse: %s" % e
        if not root.tag.endswith("svg") or float(root.get("width", "0").rstrip("pt")) <= 0:
            return "root is %s, width %s" % (root.tag, root.get("width"))
    elif path.endswith(".pdf"):
        if data[:5] != b"%PDF-" or b"%%EOF" not in data[-32:]:
            return "not a PDF (header or %%EOF)"
    else:
        return "unknown extension"
    return None


def main(paths):
    for path in paths:
        try:
            why = check(path)
        except OSError as e:
            why = str(e)
        if why:
            print("%s: %s" % (path, why), file=sys.stderr)
            return 1
    print("%d images ok" % len(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
