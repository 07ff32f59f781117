"""Formatted text as Telegram parses it: the visible text of a message and whether Telegram would
refuse it. At least as strict as Telegram: an unknown `parse_mode`, an unclosed or unknown HTML
tag, a raw `<` or `&` that is not an entity, an unescaped MarkdownV2 reserved character, and a
text that is empty or only whitespace once parsed are refused with Telegram's own words.
Lengths count UTF-16 code units, as Telegram does (an emoji outside the BMP counts 2).
"""
from __future__ import annotations

import re
from html import unescape

PARSE_MODES = {"HTML", "MarkdownV2", "Markdown"}
# Bot API 10.1 "HTML style": these tags, and no others.
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
             "tg-emoji", "code", "pre", "blockquote", "tg-time"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


class EntityError(ValueError):
    """Telegram's answer: 'Bad Request: can't parse entities: ...'."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text the user sees, or EntityError where Telegram refuses it."""
    if parse_mode is None or parse_mode == "":
        return text
    if parse_mode not in PARSE_MODES:
        raise ValueError("unsupported parse_mode")
    if parse_mode == "HTML":
        return _html(text)
    if parse_mode == "MarkdownV2":
        return _markdown_v2(text)
    return re.sub(r"[*_`\[\]]", "", text)


def _html(text: str) -> str:
    out: list[str] = []
    open_tags: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            match = _TAG.match(text, i)
            if match is None:
                raise EntityError(f"Unsupported start tag at byte offset {len(text[:i].encode())}")
            closing, name = match.group(1) == "/", match.group(2).lower()
            if name not in HTML_TAGS:
                raise EntityError(f'Unsupported start tag "{name}" at byte offset {len(text[:i].encode())}')
            if closing:
                if not open_tags or open_tags[-1] != name:
                    raise EntityError(f'Unmatched end tag at byte offset {len(text[:i].encode())}, expected '
                                      f'"</{open_tags[-1] if open_tags else ""}>", found "</{name}>"')
                open_tags.pop()
            else:
                if name == "span" and "tg-spoiler" not in match.group(3):
                    raise EntityError('Tag "span" must have class "tg-spoiler"')
                if name == "a" and "href" not in match.group(3):
                    raise EntityError('Tag "a" must have attribute "href"')
                open_tags.append(name)
            i = match.end()
        elif char == "&":
            match = _ENTITY.match(text, i)
            if match is None:
                raise EntityError(f"Character entity expected at byte offset {len(text[:i].encode())}")
            out.append(unescape(match.group(0)))
            i = match.end()
        elif char == ">":
            raise EntityError(f"Unexpected end tag at byte offset {len(text[:i].encode())}")
        else:
            out.append(char)
            i += 1
    if open_tags:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


def _markdown_v2(text: str) -> str:
    """Every reserved character outside an entity's markers must be escaped with '\\'. We accept
    only escaped text and the simple markers *bold* _italic_ `code` (enough for a stand-in)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text):
                raise EntityError("Can't parse entities: character '\\' at the end")
            out.append(text[i + 1])
            i += 2
            continue
        if char in "*_`":
            end = text.find(char, i + 1)
            if end == -1:
                raise EntityError(f"Can't find end of the entity starting at byte offset {len(text[:i].encode())}")
            out.append(_markdown_v2(text[i + 1:end]) if char != "`" else text[i + 1:end])
            i = end + 1
            continue
        if char in _MDV2_RESERVED:
            raise EntityError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        out.append(char)
        i += 1
    return "".join(out)
