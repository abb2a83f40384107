"""Point-in-time training sets: for every row of an entity frame (join keys, an event time,
anything else such as labels), each chosen view's feature values as they were at that time.

Per view, each entity row gets the source row of its keys with the greatest (event time,
created time) at or before the row's time and within the view's TTL, so of two rows with one
event time the one written last wins, exactly. Three plans give that answer:

- ``arrow`` (``offline_arrow.py``): where the view's rows are all in local Parquet files of
  plain types (numbers, booleans, text), the files are read a batch at a time and each
  row's winner is kept in NumPy; memory holds the frame, never the source, and DuckDB is
  not loaded. ``auto`` takes it wherever it can.
- in DuckDB, for every other source (CSV, PostgreSQL, other types), in two steps:
  1. each frame row's winning event time, by one of two plans:
     - ``hash``: the frame's rows in a hash table, the source's keys and times streamed
       through it once, the latest time within reach kept per row. The work grows with the
       matches, so it suits frames with few rows per entity.
     - ``asof``: an ASOF join of the frame against the source's keys and times (sorted, and
       spilled to disk past the memory limit); its cost does not depend on rows per entity.
     ``auto`` takes ``hash`` when no entity has more than ``HASH_MAX_ROWS_PER_KEY`` rows in
     the frame, else ``asof``; naming either forces DuckDB.
  2. the source rows at those times fetched in a hash join (only the winners are built into
     it), and of a row's ties the one created last kept (in numpy, by row number).

Times are compared as epoch microseconds (computed in Arrow, nanoseconds floored): naive
timestamps are taken as UTC, aware ones as the instant they name, so the two can be mixed in
the frame and the sources. Only the matched rows' features are read back; they are placed in
the frame's order by row number, and the frame's own columns are passed through untouched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gnomon.errors import InvalidInput
from gnomon.features.definitions import FeatureView
from gnomon.features.latest import OLDEST
from gnomon.features.offline_arrow import ArrowJoin, epoch_us
from gnomon.features.sources import (
    DatasetFiles,
    literal,
    parquet_files,
    quoted,
    register_source,
)
from gnomon.features.specs import Catalog

if TYPE_CHECKING:  # DuckDB loads only for a join it runs (~14 MB once imported)
    import duckdb
    import numpy as np
    import pandas as pd
    import pyarrow as pa

Join = Literal["auto", "hash", "asof"]
ENTITIES, ROW, TIME, CREATED = "gnomon_entities", "__gnomon_row", "__gnomon_t", "__gnomon_c"
HASH_MAX_ROWS_PER_KEY = 8
MEMORY_SHARE = 0.5  # of the machine's memory: DuckDB's own limit, past which it spills


@contextmanager
def offline_connection(
    memory_limit: str | None = None, spill_dir: Path | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection for training sets: past ``memory_limit`` (half the machine's
    memory by default) its joins spill to a temporary folder under ``spill_dir``, removed
    after.

    DuckDB's own default is 80% of the machine, not counting the Python frames beside it,
    and an in-memory database spills to ``./.tmp`` wherever the process runs. Parquet
    prefetching is off: it reads whole row groups ahead (~80 MB for W5's source) to hide
    remote latency, which local files do not have; scans then hold a few pages at a time.
    """
    import duckdb

    limit = memory_limit or f"{_memory_mb() * MEMORY_SHARE:.0f}MB"
    with tempfile.TemporaryDirectory(prefix="gnomon-spill-", dir=spill_dir) as spill:
        con = duckdb.connect(config={"memory_limit": limit, "temp_directory": spill})
        try:
            con.execute("SET disable_parquet_prefetching = true")
            con.execute("SET preserve_insertion_order = false")  # rows carry their number
            yield con
        finally:
            con.close()


def training_frame(
    con: duckdb.DuckDBPyConnection | None,
    catalog: Catalog,
    entity_df: pd.DataFrame | pa.Table,
    chosen: dict[str, list[str]],
    *,
    dataset_files: DatasetFiles | None = None,
    pushed_root: Path | None = None,
    timestamp_column: str = "event_timestamp",
    output: Literal["pandas", "arrow"] = "pandas",
    join: Join = "auto",
) -> pd.DataFrame | pa.Table:
    """``entity_df`` with the ``chosen`` features (``Catalog.resolve``'s ``{view: [feature]}``)
    as of each row's ``timestamp_column``: every row once, in order (duplicates stay
    duplicates), its columns (and a DataFrame's index) kept; null where no source row of the
    entity is at or before that time within the view's TTL, or the row's keys or time are
    null. A feature column is named as the feature, or ``view__feature`` when two chosen
    views share the name or the frame has a column of that name.

    Args:
        con: a connection to work in, or None for a fresh ``offline_connection()``.
        dataset_files: checks out a ``DatasetSource``'s files (the data capability).
        pushed_root: folder of rows pushed to views, one sub-folder of Parquet per view.
        output: ``"pandas"`` (a DataFrame) or ``"arrow"`` (a Table).
        join: the plan (see the module's docstring); every plan gives the same answer.
            ``"auto"`` reads local Parquet without DuckDB; ``"hash"`` or ``"asof"`` join
            in DuckDB.

    Raises:
        InvalidInput: the frame lacks a join key or the timestamp column (all named), a time
            column holds no times, keys do not compare with the source's, or a source lacks
            a declared column.
        NotFound: a view, its entity or its source files do not exist.
    """
    if output not in ("pandas", "arrow"):
        raise InvalidInput(f"output must be 'pandas' or 'arrow', got {output!r}")
    if join not in ("auto", "hash", "asof"):
        raise InvalidInput(f"join must be 'auto', 'hash' or 'asof', got {join!r}")
    views = {name: catalog.view(name) for name in chosen}
    keys = {name: catalog.join_keys(view) for name, view in views.items()}
    columns = _columns_of(entity_df)
    needed = _check_columns(columns, keys, timestamp_column)
    names = _output_names(chosen, columns)
    frame, times = _entity_table(entity_df, needed, timestamp_column)
    plans = [
        _Plan(view, keys[name], chosen[name], timestamp_column, dataset_files, pushed_root)
        for name, view in views.items()
    ]
    arrow = {p.view.name: p.arrow(frame) for p in plans} if join == "auto" else {}
    in_duckdb = [p for p in plans if arrow.get(p.view.name) is None]
    found: dict[str, pa.Table] = {}
    if in_duckdb and con is None:
        # closed before the answer is built, so its memory is back before the frame grows
        with offline_connection() as own:
            found = _find(own, in_duckdb, frame, times, join)
    elif in_duckdb and con is not None:
        found = _find(con, in_duckdb, frame, times, join)
    answer = _Answer(entity_df, output)
    for plan in plans:
        arrow_join = arrow.get(plan.view.name)
        if arrow_join is not None:
            values = arrow_join.run(times, answer.ready)  # read as they are added
        else:
            matched = _in_frame_order(found.pop(plan.view.name), frame.num_rows)
            values = (answer.ready(v) for v in matched)
        with closing(values):
            for feature in plan.features:
                answer.add(names[plan.view.name, feature], next(values))
    return answer.result()


def _find(
    con: duckdb.DuckDBPyConnection,
    plans: list[_Plan],
    frame: pa.Table,
    times: np.ndarray,
    join: Join,
) -> dict[str, pa.Table]:
    """Each plan's matched rows, found in DuckDB; the frame is numbered in order and carries
    its times in epoch microseconds (null where the time is).

    The times are computed in Arrow, not by DuckDB: its ``epoch_us`` takes no nanosecond
    time with a time zone, pandas' usual ``datetime64[ns, UTC]``."""
    import numpy as np
    import pyarrow as pa

    frame = frame.append_column(TIME, pa.array(times, mask=times == OLDEST))
    frame = frame.append_column(ROW, pa.array(np.arange(frame.num_rows, dtype=np.int64)))
    con.register(ENTITIES, frame)
    try:
        return {plan.view.name: _matched(con, plan, join) for plan in plans}
    finally:
        con.unregister(ENTITIES)


@dataclass(frozen=True, slots=True)
class _Plan:
    """One view's part of the query: the view, its keys, the features asked, the frame's
    time column, and where its source's rows are."""

    view: FeatureView
    keys: list[str]
    features: list[str]
    timestamp: str  # the entity frame's time column
    dataset_files: DatasetFiles | None
    pushed_root: Path | None

    def entities(self) -> str:
        keys = ", ".join(quoted(k) for k in self.keys)
        return f"(SELECT {ROW}, {keys}, {TIME} FROM {ENTITIES})"

    def arrow(self, frame: pa.Table) -> ArrowJoin | None:
        """The ``arrow`` plan's join, where the view's rows are all in local Parquet files
        of plain types."""
        view = self.view
        pushed = self.pushed_root / view.name if self.pushed_root else None
        paths = parquet_files(view, dataset_files=self.dataset_files, pushed=pushed)
        if paths is None:
            return None
        return ArrowJoin.prepare(view, paths, self.keys, self.features, frame)

    def rows(self, con: duckdb.DuckDBPyConnection) -> str:
        """Registers the view's source; its rows: keys, features, event and created times
        in microseconds."""
        view, what = self.view, f"the source of feature view {self.view.name!r}"
        pushed = self.pushed_root / view.name if self.pushed_root else None
        source = register_source(
            con, view, self.keys, dataset_files=self.dataset_files, pushed=pushed
        )
        _check_time(con, source, view.timestamp_field, what)
        created = str(OLDEST)
        if view.created_timestamp_field:
            _check_time(con, source, view.created_timestamp_field, what)
            created = f"coalesce(epoch_us({quoted(view.created_timestamp_field)}), {OLDEST})"
        at = quoted(view.timestamp_field)
        columns = ", ".join(quoted(c) for c in [*self.keys, *self.features])
        return (
            f"SELECT {columns}, epoch_us({at}) AS {TIME}, {created} AS {CREATED} "
            f"FROM {source} WHERE {at} IS NOT NULL"
        )

    def on(self, left: str, right: str) -> str:
        return " AND ".join(f"{left}.{quoted(k)} = {right}.{quoted(k)}" for k in self.keys)

    def fresh(self, entity: str, row: str) -> str:
        """The TTL's condition: the row's event time is not older than the entity's - ttl."""
        if self.view.ttl is None:
            return "TRUE"
        return f"{row}.{TIME} >= {entity}.{TIME} - {self.view.ttl // timedelta(microseconds=1)}"

    def values(self, row: str) -> str:
        fields = ", ".join(f"{literal(f)}: {row}.{quoted(f)}" for f in self.features)
        return "{" + fields + "}"


def _matched(con: duckdb.DuckDBPyConnection, plan: _Plan, join: Join) -> pa.Table:
    """For each frame row with a value: its row number and the source rows of its keys at
    the winning event time (their created time, their features as a struct)."""
    import duckdb

    rows = plan.rows(con)
    if join == "auto":
        join = "hash" if _most_rows_per_key(con, plan.keys) <= HASH_MAX_ROWS_PER_KEY else "asof"
    keys = ", ".join(f"e.{quoted(k)}" for k in plan.keys)
    if join == "hash":
        best = (
            f"SELECT e.{ROW}, {keys}, max(s.{TIME}) AS {TIME} FROM {plan.entities()} e "
            f"JOIN ({rows}) s ON {plan.on('e', 's')} AND s.{TIME} <= e.{TIME} "
            f"AND {plan.fresh('e', 's')} GROUP BY ALL"
        )
    else:
        # only the keys the frame asks for are sorted: a hash semi join filters the rest
        listed = ", ".join(quoted(k) for k in plan.keys)
        asked = f"(SELECT DISTINCT {listed} FROM {ENTITIES})"
        best = (
            f"SELECT e.{ROW}, {keys}, v.{TIME} FROM {plan.entities()} e ASOF JOIN "
            f"(SELECT s.* FROM ({rows}) s SEMI JOIN {asked} k ON {plan.on('s', 'k')}) v "
            f"ON {plan.on('e', 'v')} AND e.{TIME} >= v.{TIME} WHERE {plan.fresh('e', 'v')}"
        )
    sql = (
        f"WITH b AS ({best}) SELECT b.{ROW}, s.{CREATED}, {plan.values('s')} AS v FROM b "
        f"JOIN ({rows}) s ON {plan.on('b', 's')} AND s.{TIME} = b.{TIME}"
    )
    try:
        return con.sql(sql).to_arrow_table()
    except (duckdb.BinderException, duckdb.ConversionException) as exc:
        first = str(exc).splitlines()[0]
        raise InvalidInput(
            f"feature view {plan.view.name!r}: the entity frame's keys {plan.keys} do not "
            f"compare with its source's ({first})"
        ) from None


def _most_rows_per_key(con: duckdb.DuckDBPyConnection, keys: list[str]) -> int:
    listed = ", ".join(quoted(k) for k in keys)
    query = f"SELECT max(n) FROM (SELECT count(*) AS n FROM {ENTITIES} GROUP BY {listed})"
    return int(con.sql(query).fetchall()[0][0] or 0)


def _in_frame_order(found: pa.Table, n: int) -> Generator[pa.ChunkedArray]:
    """Each feature's values for the frame's ``n`` rows, in turn: of a row's source rows at
    one event time, the one created last; null where none matched."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rows, created = found.column(ROW).to_numpy(), found.column(CREATED).to_numpy()
    order = np.lexsort((created, rows))  # by row, then created time
    last = np.ones(len(order), dtype=bool)
    last[:-1] = rows[order][1:] != rows[order][:-1]
    winners = order[last]
    position = np.full(n, -1, dtype=np.int64)
    position[rows[winners]] = winners
    take = pa.array(position, mask=position < 0)
    values = found.column("v")
    for index in range(values.type.num_fields):
        yield pc.struct_field(values, [index]).take(take)


def _columns_of(entity_df: Any) -> list[str]:
    import pyarrow as pa

    if isinstance(entity_df, pa.Table):
        return list(entity_df.column_names)
    import pandas as pd

    if isinstance(entity_df, pd.DataFrame):
        return [str(c) for c in entity_df.columns]
    raise InvalidInput(
        "the entity frame must be a pandas DataFrame or a pyarrow Table, "
        f"got {type(entity_df).__name__}"
    )


def _check_columns(columns: list[str], keys: dict[str, list[str]], timestamp: str) -> list[str]:
    """The frame's columns the join reads (all join keys, the time); InvalidInput naming
    those it lacks."""
    needed = list(
        dict.fromkeys([*(k for view_keys in keys.values() for k in view_keys), timestamp])
    )
    missing = [c for c in needed if c not in columns]
    if missing:
        raise InvalidInput(f"the entity frame lacks the columns {missing}")
    return needed


def _entity_table(entity_df: Any, needed: list[str], timestamp: str) -> tuple[pa.Table, np.ndarray]:
    """The needed columns as Arrow, and their times in epoch microseconds (``OLDEST``
    where null)."""
    import pyarrow as pa

    if isinstance(entity_df, pa.Table):
        table = entity_df.select(needed)
    else:
        try:
            table = pa.Table.from_pandas(entity_df, columns=needed, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InvalidInput(
                f"the entity frame's columns {needed} cannot be read: {exc}"
            ) from None
    kind = table.schema.field(timestamp).type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        raise InvalidInput(
            f"column {timestamp!r} of the entity frame must hold timestamps, not {kind}"
        )
    return table, epoch_us(table.column(timestamp), f"column {timestamp!r} of the entity frame")


def _check_time(con: duckdb.DuckDBPyConnection, relation: str, column: str, what: str) -> None:
    kind = str(con.sql(f"SELECT {quoted(column)} FROM {relation} LIMIT 0").types[0])
    if not kind.startswith(("TIMESTAMP", "DATE")):
        raise InvalidInput(f"column {column!r} of {what} must hold timestamps, not {kind}")


def _output_names(chosen: dict[str, list[str]], frame: list[str]) -> dict[tuple[str, str], str]:
    counts: dict[str, int] = {}
    for features in chosen.values():
        for feature in features:
            counts[feature] = counts.get(feature, 0) + 1
    names = {
        (view, f): f if counts[f] == 1 and f not in frame else f"{view}__{f}"
        for view, features in chosen.items()
        for f in features
    }
    taken = [name for name in names.values() if name in frame]
    if taken:
        raise InvalidInput(f"the entity frame already has the feature columns {taken}")
    return names


class _Answer:
    """The frame's own columns, untouched, then each feature as it comes (converted one at a
    time, so a pandas answer never holds all the features twice)."""

    def __init__(self, entity_df: Any, output: str) -> None:
        import pyarrow as pa

        self.output = output
        self.frame: pd.DataFrame | None = None
        self.table: pa.Table | None = None
        if not isinstance(entity_df, pa.Table) and output == "pandas":
            self.frame = entity_df.copy(deep=False)
        elif isinstance(entity_df, pa.Table):
            self.table = entity_df
        else:
            self.table = pa.Table.from_pandas(entity_df, preserve_index=False)

    def ready(self, values: pa.ChunkedArray) -> Any:
        """A feature's values as ``add`` takes them (thread-safe: the arrow plan's helper
        converts the features it reads)."""
        return values.to_pandas().array if self.frame is not None else values

    def add(self, name: str, values: Any) -> None:
        if self.frame is not None:
            self.frame[name] = values  # positional: the index is kept
        elif self.table is not None:
            self.table = self.table.append_column(name, values)

    def result(self) -> pd.DataFrame | pa.Table:
        if self.frame is not None:
            return self.frame
        assert self.table is not None
        return self.table if self.output == "arrow" else self.table.to_pandas()


def _memory_mb() -> float:
    """The machine's memory, or the container's (cgroup v2, then v1) where that is less."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            physical = min(physical, int(text))
    return physical / 2**20
