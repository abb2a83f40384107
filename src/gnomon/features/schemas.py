"""The online lookup's wire: join key values per entity row, and what to read."""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Len, MaxLen
from pydantic import Field

from gnomon.wire import Text, Wire, WireBool, WireFloat, WireInt

MAX_ENTITIES = 1000  # rows per lookup: a request's, not a table
MAX_REFS = 1000

KeyValue = WireInt | Text | WireFloat | WireBool
KeyValues = Annotated[list[KeyValue], MaxLen(MAX_ENTITIES)]


class OnlineLookup(Wire):
    """``entities`` maps each join key to one value per entity row; ``features`` are
    ``view:feature`` or ``view`` references, or ``service`` names a feature service."""

    entities: Annotated[dict[Text, KeyValues], Len(1, 8)]
    features: Annotated[list[Text], MaxLen(MAX_REFS)] | None = None
    service: Text | None = None


class OnlineValues(Wire):
    """The keys and each feature, one value per entity row (``null``: none fresh)."""

    results: dict[str, list[Any]] = Field(default_factory=dict)
