"""Markdown (CommonMark plus tables, via markdown-it-py): headings, paragraphs, lists, tables and code.

A leading YAML front-matter block is not content; its ``title:`` (if any) names the document.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ingest.parsers.common import HeadingPath, ParseContext, clean_inline, clean_lines, merge_lists
from ingest.types import Block, BlockKind, ParsedDocument

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(---|\.\.\.)[ \t]*\n", re.S)
_FRONT_TITLE = re.compile(r"^title:\s*['\"]?(.*?)['\"]?\s*$", re.M)


def parse_markdown(data: bytes, ctx: ParseContext) -> ParsedDocument:
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    title = ""
    front = _FRONT_MATTER.match(text)
    if front:
        found = _FRONT_TITLE.search(front.group(1))
        title = clean_inline(found.group(1)) if found else ""
        text = text[front.end() :]
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks = _blocks(tokens)
    first_heading = next((b.text for b in blocks if b.kind == "heading"), "")
    return ParsedDocument(
        kind="markdown", title=title or first_heading or ctx.stem, blocks=blocks, warnings=ctx.warnings
    )


def _blocks(tokens: list[Token]) -> list[Block]:
    headings = HeadingPath()
    blocks: list[Block] = []
    list_depth = 0
    table_rows: list[str] | None = None
    row: list[str] = []
    pending_heading = 0
    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            pending_heading = int(token.tag[1:])
        elif kind in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif kind == "table_open":
            table_rows = []
        elif kind == "table_close" and table_rows is not None:
            _append(blocks, "table", "\n".join(table_rows), headings.path)
            table_rows = None
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and table_rows is not None:
            table_rows.append(" | ".join(row))
        elif kind in ("fence", "code_block"):
            _append(blocks, "code", clean_lines(token.content), headings.path)
        elif kind == "html_block":
            _append(blocks, "paragraph", clean_inline(re.sub(r"<[^>]+>", " ", token.content)), headings.path)
        elif kind == "inline":
            text = clean_inline(_inline_text(token))
            if pending_heading:
                if text:
                    blocks.append(headings.enter(pending_heading, text))
                pending_heading = 0
            elif table_rows is not None:
                row.append(text)
            else:
                block_kind: BlockKind = "list" if list_depth else "paragraph"
                _append(blocks, block_kind, ("- " + text) if list_depth else text, headings.path)
    return merge_lists(blocks)


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content if child.type != "html_inline" else "")
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)  # the alt text
    return "".join(parts)


def _append(blocks: list[Block], kind: BlockKind, text: str, path: tuple[str, ...]) -> None:
    if text.strip():
        blocks.append(Block(kind=kind, text=text, heading_path=path))
