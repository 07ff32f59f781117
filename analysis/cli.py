"""Command line: ``sahabat-nifas analyze FILE.csv [--json] [--lang en|id]``.

``main`` takes the arguments after the word "analyze".
"""
from __future__ import annotations

import argparse
import json
import sys

from .csv_input import AnalysisInputError, analyze_file
from .report import WORDING, format_text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sahabat-nifas analyze",
        description="Before/after analysis of a milk-flow CSV (mother_id,phase,milk_flow) "
                    "or a quiz CSV (participant_id,phase,score).",
    )
    p.add_argument("file", metavar="FILE.csv", help="CSV file to analyse")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--lang", choices=sorted(WORDING), default="en",
                   help="language of the text report (default: en)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = analyze_file(args.file)
    except AnalysisInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(format_text(result, args.lang), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
