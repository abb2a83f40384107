"""The docs runner itself: every page is run by some test, a page that breaks the rules is
refused before anything runs, and a failing block is reported with its page, number and
output."""

from __future__ import annotations

import importlib
import socket
from pathlib import Path

import pytest

from tests.fixtures.doc_blocks import PageError, read_blocks
from tests.fixtures.doc_runner import BlockFailed, run_page
from tests.integration.docs.pages import DOCS

GROUPS = [
    "tracking",
    "registry",
    "serving",
    "deployments",
    "server",
    "data",
    "monitoring",
    "pipelines",
    "ui",
    "features",
    "tuning",
    "automation",
    "operations",
]


def test_every_page_of_docs_is_run_by_one_group() -> None:
    pages = [
        page
        for group in GROUPS
        for page in importlib.import_module(f"tests.integration.docs.test_{group}_pages").PAGES
    ]
    assert sorted(pages) == sorted(path.name for path in DOCS.glob("*.md"))


def _page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text)
    return page


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<!-- docs-test: skip -->\n```shell\nls\n```\n", "page.md:1: a skip marker must give"),
        ("```console\nls\n```\n", "page.md:1: fence language 'console'"),
        ("<!-- docs-test: skip old -->\n\nText.\n", "page.md:1: a docs-test marker must stand"),
        ("<!-- docs-test: background -->\n```shell\nx\n```\n", "page.md:1: a background marker"),
        ("<!-- docs-test: later -->\n```shell\nx\n```\n", "unknown docs-test marker 'later'"),
        ("```python\nprint(1)\n", "page.md:1: a code block that is never closed"),
    ],
)
def test_a_page_that_breaks_the_rules_is_refused(tmp_path: Path, text: str, why: str) -> None:
    with pytest.raises(PageError, match=why):
        read_blocks(_page(tmp_path, text))


def test_a_failing_block_names_its_page_number_and_output(tmp_path: Path) -> None:
    page = _page(tmp_path, "```shell\necho fine\n```\n\nThen:\n\n```shell\necho said\nfalse\n```\n")
    with pytest.raises(BlockFailed) as failed:
        run_page(page, tmp_path / "run")
    message = str(failed.value)
    assert message.startswith("page.md block 2 (line 7, shell) exited 1")
    assert message.endswith("--- output ---\n$ echo said\nsaid\n$ false\n")


def test_a_python_block_that_raises_fails_with_its_traceback(tmp_path: Path) -> None:
    page = _page(tmp_path, "```python\nsize = 3\n```\n```python\nraise ValueError(size)\n```\n")
    with pytest.raises(BlockFailed) as failed:
        run_page(page, tmp_path / "run")
    message = str(failed.value)
    assert message.startswith("page.md block 2 (line 4, python) raised")
    assert message.endswith("ValueError: 3\n")


def test_blocks_share_a_session_a_terminal_and_skip_with_a_reason(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        "```python\nanswer = 41\n```\n"
        "```shell\nexport COLOUR=teal\nmkdir inner && cd inner\n```\n"
        "<!-- docs-test: skip needs a cluster -->\n```shell\nkubectl apply -f k8s/\n```\n"
        "```yaml\nnot: run\n```\n"
        '```shell\necho "$COLOUR in $(basename "$PWD") home=$GNOMON_HOME"\n```\n'
        "```python\nprint(answer + 1)\n```\n",
    )
    outputs = run_page(page, tmp_path / "run")
    home = tmp_path / "run" / "gnomon-home"
    assert outputs[2:4] == ["skipped: needs a cluster", ""]
    assert outputs[4].splitlines()[-2:] == [
        f"$ echo 'teal in inner home={home}'",  # the transcript: the command, then its output
        f"teal in inner home={home}",
    ]
    assert outputs[5] == "42\n"


def test_a_background_block_is_waited_for_on_a_free_port_then_stopped(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        "<!-- docs-test: background http://127.0.0.1:8765/ -->\n"
        "```shell\npython -m http.server 8765 --bind 127.0.0.1\n```\n"
        "```shell\ncurl -s -o /dev/null -w '%{http_code} %{url_effective}' http://127.0.0.1:8765/\n```\n",
    )
    outputs = run_page(page, tmp_path / "run")
    status, url = outputs[1].splitlines()[-1].split()
    port = int(url.rsplit(":", 1)[1].strip("/"))
    assert status == "200" and port != 8765
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # stopped with the page


def test_an_input_marker_answers_the_prompts(tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        "<!-- docs-test: input first\\nsecond -->\n"
        "```shell\npython -c 'import getpass; print(getpass.getpass(), getpass.getpass())'\n```\n",
    )
    assert run_page(page, tmp_path / "run")[0].endswith("first second\n")
