"""The README runs as written, from the tour to the shared server (tests/fixtures/doc_runner.py
has the rules). Its server section runs ``python train.py``, "the tour's code, unchanged":
the test writes that file from the tour's three Python blocks, as a reader would."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.doc_blocks import read_blocks
from tests.fixtures.doc_runner import check_page

README = Path(__file__).parents[2] / "README.md"


def test_readme_runs_as_written(tmp_path: Path) -> None:
    blocks = read_blocks(README)
    tour = [block.code for block in blocks if block.lang == "python"][:3]
    outputs = check_page(README, tmp_path, files={"train.py": "\n".join(tour)})
    by_code = dict(zip((block.code for block in blocks), outputs, strict=True))

    query = by_code[tour[1]].splitlines()
    assert query[0] == "rf-baseline 0.88"
    assert "'acc': 0.91" in query[1] and "'loss': 0.01" in query[1]
    assert query[2] == "100"
    assert "confusion.csv" in query[3]
    assert by_code[tour[2]].splitlines() == ["1 sklearn [0, 0, 0]"]
    (remote_runs,) = [out for code, out in by_code.items() if "python train.py" in code]
    assert "rf-baseline" in remote_runs
