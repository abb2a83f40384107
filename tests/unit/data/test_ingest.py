"""Versions gathered from sources: PostgreSQL (the real server), S3 (moto), local files and
DuckDB queries, through ``client.datasets.ingest`` and ``gnomon data ingest``."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gnomon
from gnomon.data import ingest as ingest_module
from gnomon.data.entities import AddResult
from gnomon.data.ingest import empty_batch, parse_source, write_parts
from gnomon.errors import InvalidInput, Unavailable
from tests.fixtures.cli import fails, ok_json


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.Client()


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder ingests write into, to check that nothing is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def pg_table(postgres_uri: str) -> Iterator[str]:
    """A fresh table name in the session's PostgreSQL database, dropped after the test."""
    import psycopg

    name = f"sales_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(postgres_uri, autocommit=True) as conn:
        conn.execute(f'DROP TABLE IF EXISTS "{name}"')


def pg_run(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def with_password(url: str, password: str) -> str:
    # The test server trusts local connections: the password is carried, never checked.
    return url.replace("postgres@", f"postgres:{password}@", 1)


# -- PostgreSQL ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_table_round_trips_in_key_order(
    client: gnomon.Client, postgres_uri: str, pg_table: str
) -> None:
    pg_run(
        postgres_uri,
        f"CREATE TABLE {pg_table} (id int PRIMARY KEY, city text, amount numeric(10,2),"
        " score float8, paid bool, day date, at timestamptz, tags text[], extra jsonb)",
        f"INSERT INTO {pg_table} VALUES"
        " (2, 'Oslo', 12.00, 0.5, true, '2026-01-02', '2026-01-02 10:00+01', '{a,b}',"
        " '{\"k\": 1}'),"
        " (1, 'Lyon', 9.50, NULL, false, '2026-01-01', '2026-01-01 09:00+00', NULL, NULL)",
    )
    url = with_password(postgres_uri, "s3cret")
    result = client.datasets.ingest("sales", url, table=f"public.{pg_table}", message="first")
    version = result.version
    assert (result.created, version.version, version.kind.value) == (True, 1, "table")
    assert version.source == {
        "kind": "postgresql",
        "url": postgres_uri,  # the password is not kept
        "table": f"public.{pg_table}",
        "rows": "2",
    }
    frame = client.datasets.load("sales@1")
    assert frame["id"].tolist() == [1, 2]  # the primary key's order, not the insertion order
    assert frame["city"].tolist() == ["Lyon", "Oslo"]
    assert frame["amount"].tolist() == [Decimal("9.50"), Decimal("12.00")]
    assert frame["score"].isna().tolist() == [True, False]
    assert frame["paid"].tolist() == [False, True]
    assert frame["day"].tolist() == [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]
    assert frame["at"].tolist() == [
        pd.Timestamp("2026-01-01 09:00", tz="UTC"),
        pd.Timestamp("2026-01-02 09:00", tz="UTC"),
    ]
    assert frame["tags"][1].tolist() == ["a", "b"]
    assert pd.isna(frame["extra"][0]) and frame["extra"][1] == '{"k": 1}'  # the server's text


@pytest.mark.postgres
def test_a_query_round_trips(client: gnomon.Client, postgres_uri: str, pg_table: str) -> None:
    pg_run(
        postgres_uri,
        f"CREATE TABLE {pg_table} (id int, amount float8)",
        f"INSERT INTO {pg_table} SELECT g, g * 1.5 FROM generate_series(1, 10) g",
    )
    query = f"SELECT id, amount, sum(amount) OVER (ORDER BY id) AS running FROM {pg_table}"
    query += " WHERE id > 3 ORDER BY id"
    version = client.datasets.ingest("q", postgres_uri, query=query).version
    assert version.source["query"] == query and "table" not in version.source
    frame = client.datasets.load(version.ref)
    assert frame["id"].tolist() == list(range(4, 11))
    assert frame["running"].tolist() == pd.Series(range(4, 11)).mul(1.5).cumsum().tolist()


@pytest.mark.postgres
def test_types_without_an_arrow_match_arrive_as_text(
    client: gnomon.Client, postgres_uri: str
) -> None:
    query = (
        "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, interval '1 day 2 hours' AS i,"
        " ARRAY[1.5, NULL]::numeric[] AS ns, ARRAY['{}'::jsonb] AS js, 7::numeric AS total,"
        " 123.456::numeric(60, 3) AS wide, NULL::text[] AS none"
    )
    client.datasets.ingest("types", postgres_uri, query=query)
    row = client.datasets.load("types").iloc[0].to_dict()
    assert {k: row[k] for k in ("u", "i", "ns", "js", "total")} == {
        "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "i": "1 day 02:00:00",
        "ns": "{1.5,NULL}",
        "js": '{"{}"}',
        "total": 7.0,
    }
    assert row["wide"] == Decimal("123.456") and row["none"] is None


@pytest.mark.postgres
def test_rows_are_written_in_parts_and_reingesting_is_unchanged(
    client: gnomon.Client,
    postgres_uri: str,
    pg_table: str,
    scratch: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pg_run(
        postgres_uri,
        f"CREATE TABLE {pg_table} (id int PRIMARY KEY, label text)",
        f"INSERT INTO {pg_table} SELECT g, 'row ' || g FROM generate_series(2500, 1, -1) g",
    )
    monkeypatch.setattr(ingest_module, "FETCH_ROWS", 300)  # batches across part boundaries
    seen: list[int] = []

    def ingest() -> AddResult:
        datasets = client.datasets
        return ingest_module.ingest(
            datasets.service,
            datasets.scope,
            "big",
            postgres_uri,
            table=pg_table,
            part_rows=1000,
            on_progress=lambda done, _: seen.append(done),
        )

    first = ingest()
    manifest = client.datasets.manifest("big@1")
    assert [e.path for e in manifest.files] == [f"part-0000{i}.parquet" for i in range(3)]
    out = client.datasets.checkout("big@1", scratch.parent / "out")
    assert [pq.ParquetFile(out / e.path).metadata.num_rows for e in manifest.files] == [
        1000,
        1000,
        500,
    ]
    assert seen[-1] == 2500 and seen == sorted(seen)
    assert client.datasets.load("big")["id"].tolist() == list(range(1, 2501))
    again = ingest()
    assert (again.created, again.version.manifest_digest) == (False, first.version.manifest_digest)
    pg_run(postgres_uri, f"UPDATE {pg_table} SET label = 'changed' WHERE id = 1700")
    changed = ingest()
    assert (changed.created, changed.version.version) == (True, 2)
    diff = client.datasets.diff("big@1", "big@2")
    assert [c.path for c in diff.changed] == ["part-00001.parquet"]  # only the part it is in
    assert list(scratch.iterdir()) == []


@pytest.mark.postgres
def test_an_empty_result_is_one_empty_part(client: gnomon.Client, postgres_uri: str) -> None:
    query = "SELECT 1::int AS one WHERE false"
    version = client.datasets.ingest("empty", postgres_uri, query=query).version
    assert (version.files, version.source["rows"]) == (1, "0")
    frame = client.datasets.load("empty")
    assert (len(frame), list(frame.columns)) == (0, ["one"])


@pytest.mark.postgres
def test_postgres_errors(
    client: gnomon.Client, postgres_uri: str, pg_table: str, scratch: Path
) -> None:
    datasets = client.datasets
    with pytest.raises(InvalidInput, match="either --table or --query"):
        datasets.ingest("x", postgres_uri)
    with pytest.raises(InvalidInput, match="either --table or --query"):
        datasets.ingest("x", postgres_uri, table="t", query="SELECT 1")
    with pytest.raises(InvalidInput, match='relation "no_such_table" does not exist'):
        datasets.ingest("x", postgres_uri, query="SELECT * FROM no_such_table")
    with pytest.raises(InvalidInput, match="syntax error"):
        datasets.ingest("x", postgres_uri, query="SELEC 1")
    with pytest.raises(InvalidInput, match=re.escape("NAME or SCHEMA.NAME")):
        datasets.ingest("x", postgres_uri, table="a.b.c")
    # A table name is an identifier, never SQL: this one names no table and drops nothing.
    pg_run(postgres_uri, f"CREATE TABLE {pg_table} (id int)")
    with pytest.raises(InvalidInput, match="does not exist"):
        datasets.ingest("x", postgres_uri, table=f"{pg_table}; DROP TABLE {pg_table}")
    # The session is read only: a query cannot change the source.
    pg_run(postgres_uri, f"CREATE SEQUENCE {pg_table}_seq")
    with pytest.raises(InvalidInput, match="read-only transaction"):
        datasets.ingest("x", postgres_uri, query=f"SELECT nextval('{pg_table}_seq')")
    pg_run(postgres_uri, f"SELECT * FROM {pg_table}", f"DROP SEQUENCE {pg_table}_seq")
    unreachable = "postgresql://postgres:hunter2@127.0.0.1:1/nowhere"
    with pytest.raises(Unavailable) as caught:
        datasets.ingest("x", unreachable, table="t")
    assert "hunter2" not in str(caught.value) and "127.0.0.1:1" in str(caught.value)
    assert datasets.list() == [] and list(scratch.iterdir()) == []


# -- files: S3 and local -----------------------------------------------------------------


def write_csv(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


@pytest.mark.s3
def test_s3_files_are_copied_as_they_are(
    gnomon_home: Path,
    s3_root: str,
    s3_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    monkeypatch.setenv("GNOMON_S3_ENDPOINT_URL", s3_server)
    client = gnomon.Client()  # settings are read when the client is made
    bucket = s3_root.removeprefix("s3://").split("/", 1)[0]
    frame = pd.DataFrame({"id": [1, 2, 3], "city": ["Lyon", "Oslo", "Porto"]})
    local = write_parquet(tmp_path / "x.parquet", frame)
    csv_text = "id,amount\n1,9.5\n2,12.0\n"
    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    s3.upload_file(str(local), bucket, "exports/2026/x.parquet")
    s3.put_object(Bucket=bucket, Key="exports/2026/y.csv", Body=csv_text.encode())
    s3.put_object(Bucket=bucket, Key="exports/2026/_SUCCESS", Body=b"")
    s3.close()

    one = client.datasets.ingest("p", f"s3://{bucket}/exports/2026/x.parquet").version
    assert one.source == {"kind": "s3", "url": f"s3://{bucket}/exports/2026/x.parquet"}
    assert [e.path for e in client.datasets.manifest("p").files] == ["x.parquet"]
    assert client.datasets.load("p").equals(frame)
    csv = client.datasets.ingest("c", f"s3://{bucket}/exports/2026/y.csv").version
    out = client.datasets.checkout(csv.ref, tmp_path / "out")
    assert (out / "y.csv").read_text() == csv_text  # byte for byte
    folder = client.datasets.ingest("f", f"s3://{bucket}/exports").version
    assert [e.path for e in client.datasets.manifest(folder.ref).files] == [
        "2026/x.parquet",
        "2026/y.csv",
    ]
    assert client.datasets.ingest("f", f"s3://{bucket}/exports/").created is False
    with pytest.raises(InvalidInput, match="nothing at"):
        client.datasets.ingest("n", f"s3://{bucket}/missing.parquet")
    with pytest.raises(InvalidInput, match="neither Parquet nor CSV"):
        client.datasets.ingest("n", f"s3://{bucket}/exports/2026/_SUCCESS")


def test_a_local_folder_keeps_its_tables(client: gnomon.Client, tmp_path: Path) -> None:
    source = tmp_path / "export"
    write_csv(source / "a.csv", "id,v\n1,x\n")
    write_parquet(source / "deep" / "b.parquet", pd.DataFrame({"id": [2], "v": ["y"]}))
    write_csv(source / "_SUCCESS", "")
    (source / "link.csv").symlink_to(source / "a.csv")
    result = client.datasets.ingest("local", str(source))
    assert result.version.source == {"kind": "local", "url": str(source)}
    assert [e.path for e in client.datasets.manifest("local").files] == [
        "a.csv",
        "deep/b.parquet",
    ]
    assert client.datasets.load("local")["id"].tolist() == [1, 2]
    assert client.datasets.ingest("local", f"file://{source}").created is False
    single = client.datasets.ingest("one", str(source / "a.csv")).version
    assert [e.path for e in client.datasets.manifest(single.ref).files] == ["a.csv"]


def test_bad_files(client: gnomon.Client, tmp_path: Path, scratch: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", "id,amount\n1,9.5\n2\n3,4\n")
    with pytest.raises(
        InvalidInput, match=re.escape("bad.csv is not a CSV that parses, at line 3:")
    ):
        client.datasets.ingest("x", str(bad))
    # Past pyarrow's first block (1 MB), whose values set the column's type.
    later = write_csv(tmp_path / "later" / "t.csv", "id\n" + "1\n" * 600_000 + "oops\n")
    with pytest.raises(
        InvalidInput, match=re.escape("t.csv is not a CSV that parses, at line 600002")
    ):
        client.datasets.ingest("x", str(later.parent))
    fake = write_csv(tmp_path / "fake.parquet", "not parquet")
    with pytest.raises(InvalidInput, match=re.escape("fake.parquet is not a Parquet file")):
        client.datasets.ingest("x", str(fake))
    notes = write_csv(tmp_path / "notes.txt", "hello")
    with pytest.raises(InvalidInput, match="neither Parquet nor CSV"):
        client.datasets.ingest("x", str(notes))
    (tmp_path / "none").mkdir()
    write_csv(tmp_path / "none" / "readme.md", "no table here")
    with pytest.raises(InvalidInput, match="holds no Parquet or CSV file"):
        client.datasets.ingest("x", str(tmp_path / "none"))
    with pytest.raises(InvalidInput, match="does not exist"):
        client.datasets.ingest("x", str(tmp_path / "absent"))
    assert client.datasets.list() == [] and list(scratch.iterdir()) == []


# -- DuckDB --------------------------------------------------------------------------------


def test_a_duckdb_query(client: gnomon.Client, tmp_path: Path, scratch: Path) -> None:
    for month in (1, 2):
        frame = pd.DataFrame({"id": [month * 10 + i for i in range(3)], "amount": [1.0, 2.0, 3.0]})
        write_parquet(tmp_path / "raw" / f"m{month}.parquet", frame)
    query = (
        f"SELECT id, amount * 2 AS doubled FROM read_parquet('{tmp_path}/raw/*.parquet') "
        "WHERE id % 2 = 0 ORDER BY id"
    )
    result = client.datasets.ingest("duck", "duckdb", query=query)
    assert result.version.source == {"kind": "duckdb", "query": query, "rows": "4"}
    frame = client.datasets.load("duck")
    assert frame.to_dict("list") == {"id": [10, 12, 20, 22], "doubled": [2.0, 6.0, 2.0, 6.0]}
    assert client.datasets.ingest("duck", "DuckDB", query=query).created is False
    with pytest.raises(InvalidInput, match=r"the DuckDB query failed: .*no_such"):
        client.datasets.ingest("x", "duckdb", query="SELECT * FROM no_such")
    with pytest.raises(InvalidInput, match="the DuckDB query failed"):  # fails while it streams
        client.datasets.ingest("x", "duckdb", query="SELECT (i / 0)::int FROM range(5) t(i)")
    with pytest.raises(InvalidInput, match="takes a --query"):
        client.datasets.ingest("x", "duckdb")
    assert list(scratch.iterdir()) == []


# -- what any source shares ----------------------------------------------------------------


def test_sources_are_parsed_and_checked() -> None:
    with pytest.raises(InvalidInput, match="unknown source scheme 'mysql://'"):
        parse_source("mysql://db/x", query="SELECT 1")
    with pytest.raises(InvalidInput, match="for PostgreSQL and DuckDB"):
        parse_source("s3://b/x.parquet", query="SELECT 1")
    with pytest.raises(InvalidInput, match="--query is empty"):
        parse_source("duckdb", query="  ")
    found = parse_source("postgresql://me:pw@db:5432/shop?sslmode=require&password=pw", "t")
    assert found.record() == {
        "kind": "postgresql",
        "url": "postgresql://me@db:5432/shop?sslmode=require",
        "table": "t",
    }


def test_the_same_rows_give_the_same_bytes_whatever_the_batches(tmp_path: Path) -> None:
    table = pa.table({"id": range(5000), "text": [f"v{i % 7}" for i in range(5000)]})
    splits = [
        table.to_batches(),
        table.to_batches(max_chunksize=333),
        [empty_batch(table.schema)] + [table.slice(i, 1).to_batches()[0] for i in range(5000)],
    ]
    outputs = []
    for number, batches in enumerate(splits):
        folder = tmp_path / str(number)
        folder.mkdir()
        assert write_parts(iter(batches), folder, part_rows=2048) == 5000
        outputs.append({p.name: p.read_bytes() for p in sorted(folder.iterdir())})
    assert list(outputs[0]) == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert outputs[0] == outputs[1] == outputs[2]


def test_the_command(gnomon_home: Path, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", "id,v\n1,a\n2,b\n")
    made = ok_json("data", "ingest", "cli", "--from", str(source), "-m", "first")
    assert (made["ref"], made["created"], made["source"]["kind"]) == ("cli@1", True, "local")
    query = f"SELECT * FROM read_csv('{source}') ORDER BY id"
    made = ok_json("data", "ingest", "q", "--from", "duckdb", "--query", query)
    assert (made["ref"], made["source"]["rows"]) == ("q@1", "2")
    assert not ok_json("data", "ingest", "q", "--from", "duckdb", "-q", query)["created"]
    assert fails("data", "ingest", "x", "--from", "ftp://host/x.csv") == (
        "error: unknown source scheme 'ftp://': give postgresql://, s3://, a local path or duckdb"
    )


@pytest.mark.s3
def test_s3_keys_that_climb_out_are_refused(
    gnomon_home: Path,
    s3_root: str,
    s3_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    monkeypatch.setenv("GNOMON_S3_ENDPOINT_URL", s3_server)
    client = gnomon.Client()
    bucket = s3_root.removeprefix("s3://").split("/", 1)[0]
    victim = tmp_path / "victim"
    victim.mkdir()
    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    try:
        s3.put_object(Bucket=bucket, Key="export/ok.csv", Body=b"a\n1\n")
        depth = "../" * 12
        s3.put_object(Bucket=bucket, Key=f"export/{depth}{victim}/dotdot.csv", Body=b"a\n1\n")
    finally:
        s3.close()
    with pytest.raises(InvalidInput, match="must be relative and must not contain"):
        client.datasets.ingest("exp", f"s3://{bucket}/export")
    assert list(victim.iterdir()) == []
    with pytest.raises(gnomon.NotFound):
        client.datasets.version("exp")
