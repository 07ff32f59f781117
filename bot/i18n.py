"""Texts and content per language, loaded from YAML files in `flows/content/<lang>/`.

Every file's top-level keys join one tree per language (two files may not define the
same top-level key). `t()` returns a formatted text, `data()` structured content such as
guide steps or quiz items. Bahasa Indonesia (`id`) is the default and the fallback.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


class Texts:
    def __init__(self, trees: dict[str, dict[str, Any]]):
        self.trees = trees

    @classmethod
    def load(cls) -> "Texts":
        return cls({lang: _load_language(lang) for lang in LANGUAGES})

    def data(self, lang: str, key: str) -> Any:
        for tree in (self.trees.get(lang) or {}, self.trees[DEFAULT_LANGUAGE]):
            node: Any = tree
            for part in key.split("."):
                if not isinstance(node, dict) or part not in node:
                    node = None
                    break
                node = node[part]
            if node is not None:
                return node
        raise KeyError(f"no text {key!r}")

    def t(self, lang: str, key: str, **values: Any) -> str:
        text = self.data(lang, key)
        if not isinstance(text, str):
            raise TypeError(f"text {key!r} is not a string")
        return text.format(**values) if values else text


def _load_language(lang: str) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    folder = resources.files("flows.content").joinpath(lang)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        part = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        clash = set(part) & set(tree)
        if clash:
            raise ValueError(f"{lang}/{entry.name} redefines {sorted(clash)}")
        tree.update(part)
    return tree


@lru_cache(maxsize=1)
def texts() -> Texts:
    return Texts.load()


def pick_language(language_code: str | None) -> str:
    """Telegram client language → ours: English where the client says `en`, else Indonesian."""
    return "en" if (language_code or "").lower().startswith("en") else DEFAULT_LANGUAGE
