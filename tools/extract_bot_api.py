"""Write loopback/bot_api_methods.json from the Bot API spec in ../shared/telegram-bot-api/.

The stand-in uses the compact copy at run time, so the package never needs the shared
folder; `tests/test_loopback_spec.py` checks that the copy still matches the spec.

    python tools/extract_bot_api.py [path/to/api.min.json]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = ROOT.parent / "shared" / "telegram-bot-api" / "api.min.json"
OUT = ROOT / "loopback" / "bot_api_methods.json"


def compact(spec: dict) -> dict:
    methods = {}
    for name, method in spec["methods"].items():
        methods[name] = {
            field["name"]: {"types": field["types"], "required": field["required"]}
            for field in method.get("fields", [])
        }
    return {"version": spec["version"], "methods": methods}


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SPEC
    data = compact(json.loads(path.read_text(encoding="utf-8")))
    OUT.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(data['methods'])} methods, {data['version']})")


if __name__ == "__main__":
    main()
