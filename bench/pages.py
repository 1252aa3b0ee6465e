"""Code pages as a reader meets them: page height and where the first plain-language section starts,
at a phone (390x844) and a desktop (1366x900) size, in Debian chromium, against a running server.

    python bench/pages.py http://127.0.0.1:8000 [--codes icd10cm/E11.9 icd10cm/S72.001A ...]

Prints one line per page and size: height in CSS pixels, the explainer's first section's top, the
"Similar codes" heading's top, and the HTML size (plain and gzip).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import live  # noqa: E402

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
DEFAULT_CODES = ["icd10cm/E11.9", "icd10cm/S72.001A", "icd10pcs/0SR9019", "msdrg/291", "icd10cm/I21.9"]
TOP = """sel => { const e = document.querySelector(sel); return e ? Math.round(e.getBoundingClientRect().top
  + window.scrollY) : null; }"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base")
    ap.add_argument("--codes", nargs="+", default=DEFAULT_CODES)
    args = ap.parse_args()
    gen = live.chromium()
    browser = next(gen)
    print(f"{'page':24} {'size':8} {'height':>7} {'explainer':>9} {'similar':>8} {'html kB':>8} {'gzip kB':>8}")
    for code in args.codes:
        url = f"{args.base}/codes/{code}"
        try:
            with urllib.request.urlopen(url) as r:
                html = r.read()
        except urllib.error.HTTPError as e:
            print(f"{code:24} answered {e.code}")
            continue
        for name, viewport in SIZES.items():
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            page.goto(url)
            height = page.evaluate("document.documentElement.scrollHeight")
            explainer = page.evaluate(TOP, "section.explainer .explainer-section, section.explainer")
            similar = page.evaluate(TOP, "#similar-h")
            print(f"{code:24} {name:8} {height:7} {explainer!s:>9} {similar!s:>8} {len(html) / 1024:8.1f}"
                  f" {len(gzip.compress(html)) / 1024:8.1f}")
            context.close()
    gen.close()


if __name__ == "__main__":
    main()
