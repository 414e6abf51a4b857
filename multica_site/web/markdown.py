"""Markdown for descriptions and comments, rendered on the server.

CommonMark with raw HTML disabled (so user text cannot inject markup) and markdown-it's link
validation (``javascript:``/``data:`` refused). Multica's mention links
(``[@Label](mention://agent/<uuid>)``) render as a non-navigating mention chip.
"""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

MENTION_SCHEME = "mention://"

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _link_open(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    stack = env.setdefault("mention_stack", [])
    if href.startswith(MENTION_SCHEME):
        kind, _, ident = href[len(MENTION_SCHEME) :].partition("/")
        stack.append(True)
        return (
            f'<span class="mention" data-mention-type="{_md.utils.escapeHtml(kind)}" '
            f'data-mention-id="{_md.utils.escapeHtml(ident)}">'
        )
    stack.append(False)
    token.attrSet("rel", "nofollow noopener")
    return _md.renderer.renderToken(tokens, idx, options, env)


def _link_close(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    stack = env.setdefault("mention_stack", [])
    if stack and stack.pop():
        return "</span>"
    return "</a>"


def _mention_link_validator(url: str) -> bool:
    return url.startswith(MENTION_SCHEME) or _default_validate(url)


_default_validate = _md.validateLink
_md.validateLink = _mention_link_validator  # type: ignore[method-assign]
_md.add_render_rule("link_open", _link_open)
_md.add_render_rule("link_close", _link_close)


def render_markdown(text: str | None) -> SafeString:
    """HTML for ``text`` (escaped, raw HTML refused), safe to embed in a template."""
    return mark_safe(_md.render(text or "", {}))  # noqa: S308 - html=False: markdown-it escapes input
