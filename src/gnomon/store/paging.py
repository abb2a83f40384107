"""Offset pages over a SQL statement: what every store's listing and search shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, Select

from gnomon._types import decode_offset_token, encode_offset_token

T = TypeVar("T")


def fetch_page(
    conn: Connection, statement: Select[Any], max_results: int, page_token: str | None
) -> tuple[Sequence[Row[Any]], str | None]:
    """The rows of ``statement`` (already ordered) that the page token points at, at most
    ``max_results``, and the token of the next page (``None`` on the last).

    One row more than asked for is read, to know whether another page follows.

    Raises:
        InvalidInput: a page token that is not one of ours.
    """
    offset = decode_offset_token(page_token)
    rows = conn.execute(statement.offset(offset).limit(max_results + 1)).all()
    return cut_page(rows, max_results, page_token)


def cut_page(
    rows: Sequence[T], max_results: int, page_token: str | None
) -> tuple[Sequence[T], str | None]:
    """``rows`` read at the token's offset with one row too many, as a page and the token of
    the next (``None`` on the last); for stores that read the rows their own way."""
    if len(rows) <= max_results:
        return rows, None
    return rows[:max_results], encode_offset_token(decode_offset_token(page_token) + max_results)
