"""Text clean-up and deterministic YAML output shared by the framework builders."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import yaml

_TAG = re.compile(r"<[^>]+>")
_BULLETS = re.compile(r"^[\s•●▪◦·✓✔\-–*]+")
_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})


def strip_html(text: str) -> str:
    """Remove HTML tags and unescape entities; tags become spaces so words never fuse."""
    return html.unescape(_TAG.sub(" ", text))


def normalise_quotes(text: str) -> str:
    """Curly quotes to ASCII and no-break spaces to spaces (nothing else changes).

    >>> normalise_quotes("people’s")
    "people's"
    """
    return text.translate(_QUOTES)


def clean_text(text: str) -> str:
    """Plain, single-spaced text: no HTML, no leading bullet marks, ASCII quotes.

    >>> clean_text("<li>• Staff are  kind’s</li>")
    "Staff are kind's"
    """
    text = strip_html(text).translate(_QUOTES)
    text = _SPACE.sub(" ", text).strip()
    text = _BULLETS.sub("", text).strip()
    # a space before closing punctuation is a PDF artefact
    return re.sub(r"\s+([,.;:!?)])", r"\1", text)


def slugify(title: str) -> str:
    """Stable id part from a title: lower case, alphanumerics joined by single hyphens.

    >>> slugify("Independence, choice, and control")
    'independence-choice-and-control'
    """
    return re.sub(r"[^a-z0-9]+", "-", title.lower().translate(_QUOTES)).strip("-")


class _Dumper(yaml.SafeDumper):
    """Safe dumper that never emits anchors/aliases (output must be plain and diff-able)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(data: dict[str, Any]) -> str:
    """Serialise a framework document deterministically (key order kept, wide lines, UTF-8)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096,
                     default_flow_style=False)


def write_yaml(path: Path, data: dict[str, Any], header: str = "") -> None:
    """Write ``data`` to ``path`` atomically, with an optional ``# comment`` header."""
    text = "".join(f"# {line}\n" for line in header.splitlines()) + dump_yaml(data)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
