"""Message templates (Jinja2, sandboxed): one file per kind and language, which a mall can edit.

A kind's file (`templates/<language>/<kind>.j2`) defines the blocks `subject`, `body` (plain
text, paragraphs separated by blank lines), `sms` and, for letters, `signature`. The layouts in
`templates/layouts/` turn the paragraphs into the HTML e-mail and the letter. A mall's own folder
(NOTIFY_TEMPLATES_DIR) is looked in first; a file it lacks, or one that fails to render, falls
back to the built-in one, and a kind with no file of its own uses `generic.j2`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, Undefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_LANGUAGE = "zh-CN"
_SAFE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Rendered:
    """One message in every form a channel may need."""

    subject: str
    paragraphs: tuple[tuple[str, ...], ...]  # paragraphs, each a tuple of lines
    sms: str
    signature: tuple[str, ...]
    html: str
    template: str  # which file was used, for the delivery log

    @property
    def text(self) -> str:
        body = "\n\n".join("\n".join(lines) for lines in self.paragraphs)
        return body + ("\n\n" + "\n".join(self.signature) if self.signature else "")


class TemplateRenderer:
    """Renders a kind in a language; never fails for an unknown kind or a broken mall template."""

    def __init__(self, override_dir: str | Path | None = None, strict: bool = False):
        self._builtin = _environment([BUILTIN_DIR], strict)
        folders = [Path(override_dir), BUILTIN_DIR] if override_dir else None
        self._override = _environment(folders, strict) if folders else None

    def render(self, kind: str, language: str, context: dict[str, Any], letter: bool = False) -> Rendered:
        if self._override is not None:
            try:
                return _render(self._override, kind, language, context, letter)
            except TemplateError as exc:
                log.error(
                    "the mall's template for %s (%s) fails, using the built-in one: %s", kind, language, exc
                )
        return _render(self._builtin, kind, language, context, letter)


def _environment(folders: list[Path], strict: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader([str(folder) for folder in folders]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined if strict else Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def candidates(kind: str, language: str) -> list[str]:
    """The files tried for a kind, most specific first."""
    kind = kind if _SAFE_NAME.match(kind) else "generic"
    languages = [language, DEFAULT_LANGUAGE] if language != DEFAULT_LANGUAGE else [language]
    return [f"{lang}/{name}.j2" for lang in languages for name in (kind, "generic")]


def _render(env: SandboxedEnvironment, kind: str, language: str, context: dict, letter: bool) -> Rendered:
    template = env.select_template(candidates(kind, language))
    values = {**context, "language": language}
    subject = " ".join(_block(template, "subject", values).split())
    paragraphs = _paragraphs(_block(template, "body", values))
    signature = tuple(
        line.strip() for line in _block(template, "signature", values).splitlines() if line.strip()
    )
    sms = " ".join(_block(template, "sms", values).split()) or subject
    layout = env.get_template("layouts/letter.html" if letter else "layouts/email.html")
    html = layout.render(**values, subject=subject, paragraphs=paragraphs, signature=signature)
    return Rendered(subject, paragraphs, sms, signature, html, template.name)


def _block(template, name: str, values: dict) -> str:
    if name not in template.blocks:
        return ""
    return "".join(template.blocks[name](template.new_context(values))).strip()


def _paragraphs(text: str) -> tuple[tuple[str, ...], ...]:
    blocks = re.split(r"\n\s*\n", text.strip())
    found = []
    for block in blocks:
        lines = tuple(line.strip() for line in block.splitlines() if line.strip())
        if lines:
            found.append(lines)
    return tuple(found)
