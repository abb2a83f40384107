"""The screenshots of docs/ui.md: ``python -m tests.ui_screenshots`` runs ``gnomon demo`` into a
fresh GNOMON_HOME, serves it with ``gnomon ui`` and photographs the main pages in Debian's
chromium (tests/fixtures/browser.py's, never a downloaded one) into docs/images/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS
from tests.fixtures.processes import GNOMON, free_port, wait_until_answers

IMAGES = Path(__file__).parents[1] / "docs" / "images"
WIDTH, HEIGHT = 1280, 900


def first_link(url: str, pattern: str) -> str:
    found = re.search(pattern, httpx.get(url).text)
    if found is None:
        raise SystemExit(f"no link like {pattern!r} on {url}")
    return found.group(0).strip('"')


def pages(base: str) -> dict[str, str]:
    """Name → path of each page photographed, found by following the pages' own links."""
    # the demo's own experiment: its runs are the models it trained
    experiment = first_link(f"{base}/", r"/experiments/[0-9a-f]{32}(?=\">demo<)")
    listing = httpx.get(base + experiment).text
    runs = re.findall(r'data-run="([0-9a-f]{32})"', listing)
    found = {"experiments": "/", "runs": experiment, "run": f"/runs/{runs[0]}"}
    found["compare"] = f"/compare?runs={runs[0]},{runs[1]}"
    for name, listed, pattern in (
        ("model", "/models", r"/models/[\w.-]+(?=\")"),
        ("dataset", "/datasets", r"/datasets/[\w.-]+(?=\")"),
        ("deployment", "/deployments", r"/deployments/[\w.-]+(?=\")"),
        ("monitor", "/monitors", r"/monitors/[\w.-]+(?=\")"),
        ("pipeline", "/pipelines", r"/pipelines/runs/[0-9a-f]{32}"),
    ):
        try:
            found[name] = first_link(base + listed, pattern)
        except SystemExit as missing:
            print(missing, file=sys.stderr)
    return found


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gnomon-screenshots-") as home:
        env = {**os.environ, "GNOMON_HOME": home}
        env.pop("GNOMON_URI", None)
        subprocess.run([GNOMON, "demo", "--quick"], env=env, check=True, stdout=subprocess.DEVNULL)
        _photograph(env)


def _photograph(env: dict[str, str]) -> None:
    """Serve the demo's home with ``gnomon ui`` and photograph each page into docs/images/."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen([GNOMON, "ui", "--port", str(port)], env=env, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{base}/healthz", server)
        IMAGES.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            for name, path in pages(base).items():
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(IMAGES / f"ui-{name}.png"))
                print(f"docs/images/ui-{name}.png  {path}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
