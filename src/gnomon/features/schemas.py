"""The online lookup's wire: join key values per entity row, and what to read."""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Len, MaxLen
from pydantic import Field

from gnomon.features.tables import NAME_LENGTH
from gnomon.wire import Text, Wire, WireBool, WireFloat, WireInt

MAX_ENTITIES = 1000  # rows per lookup: a request's, not a table
MAX_REFS = 1000

KeyValue = WireInt | Text | WireFloat | WireBool
KeyValues = Annotated[list[KeyValue], MaxLen(MAX_ENTITIES)]
# a definition's or a column's name (at most NAME_LENGTH), and ``view:feature``: longer is
# no name at all, refused before a lookup (and never echoed back whole in a 404)
Name = Annotated[Text, MaxLen(NAME_LENGTH)]
Ref = Annotated[Text, MaxLen(2 * NAME_LENGTH + 1)]


class OnlineLookup(Wire):
    """``entities`` maps each join key to one value per entity row; ``features`` are
    ``view:feature`` or ``view`` references, or ``service`` names a feature service."""

    entities: Annotated[dict[Name, KeyValues], Len(1, 8)]
    features: Annotated[list[Ref], MaxLen(MAX_REFS)] | None = None
    service: Name | None = None


class OnlineValues(Wire):
    """The keys and each feature, one value per entity row (``null``: none fresh)."""

    results: dict[str, list[Any]] = Field(default_factory=dict)
