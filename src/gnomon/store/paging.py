"""Offset pages over a SQL statement: what every store's listing and search shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select

from gnomon._types import decode_offset_token, encode_offset_token


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
    more = len(rows) > max_results
    return rows[:max_results], encode_offset_token(offset + max_results) if more else None
