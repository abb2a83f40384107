"""The web UI under attack: an anonymous client, a viewer reaching into another workspace or
trying to edit, a hostile editor planting markup in every name and file a page shows, another
site posting forms or bouncing through redirects, brute force through the login form, and
malformed input on every route (never a 500). ``# Found:`` marks the holes this review
found, each fixed since."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gnomon._types import Scope
from gnomon.auth.entities import Principal, Role
from gnomon.tracking.entities import Metric, RunStatus
from gnomon.ui.app import PAGE_MODULES
from tests.fixtures.server import LiveServer, serve, server_settings
from tests.integration.ui.conftest import PASSWORD, WORKSPACE, UiServer, logged_in, login

if TYPE_CHECKING:
    from playwright.sync_api import Page

TEAM = {"workspace": WORKSPACE}
# Closes the JSON script, opens a script, breaks out of an attribute, an event handler, SVG,
# and unicode that reorders or ends lines in scripts.
EVIL = (
    "</script><script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
    "<svg onload=alert(3)>\u2028\u202e"
)
RAW_MARKUP = ("<script>alert", "<img src=x", "<svg onload")
SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options")


def _root(ui_server: UiServer) -> Principal:
    auth = ui_server.live.services.auth
    assert auth is not None
    return Principal(auth.get_user("admin").id, "admin", is_admin=True)


def _parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd", use_dictionary=False)
    return out.getvalue()


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.fixture(scope="module")
def hostile(ui_server: UiServer) -> dict[str, str]:
    """What a hostile editor of ``team`` logs: markup in the experiment's and runs' names,
    param and tag values, and in files of every kind the run page previews or serves."""
    tracking, scope = ui_server.live.services.tracking, ui_server.scope
    experiment = tracking.create_experiment(scope, f"exp {EVIL}")
    ids = {"experiment": experiment.id}
    for i in range(2):
        run = tracking.create_run(scope, experiment.id, f"run{i} {EVIL}", start_time=1_000 + i)
        points = [Metric("loss", 1.0 / (s + 1 + i), s, 1_000 + s) for s in range(10)]
        tags = {"note": EVIL, "gnomon.git.remote": "javascript:alert(4)"}
        tracking.log_batch(scope, run.id, points, {"p": EVIL, "lr": str(i)}, tags)
        ids[f"run{i}"] = run.id
    files = {
        "page.html": b"<script>alert(5)</script>",
        "image.svg": b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(6)'/>",
        "fake.png": b"<html><script>alert(7)</script></html>",
        "notes.txt": EVIL.encode(),
        "table.csv": f"{_csv_cell(EVIL)}\n{_csv_cell(EVIL)}\n".encode(),
        "table.parquet": _parquet(pa.table({EVIL: [EVIL]})),
        'quo"te\\.txt': b"x",
    }
    tracking.log_files(scope, ids["run0"], files)
    tracking.end_run(scope, ids["run0"], RunStatus.FINISHED)
    return ids


@pytest.fixture(scope="module")
def other(ui_server: UiServer) -> dict[str, str]:
    """Workspace ``other`` (the viewer is not in it) with a secret run and file."""
    auth = ui_server.live.services.auth
    assert auth is not None
    root = _root(ui_server)
    workspace = auth.create_workspace(root, "other")
    auth.create_user(root, "mallory", PASSWORD)
    auth.add_member(root, "other", "mallory", Role.EDITOR)
    scope = Scope(workspace.id, "mallory")
    tracking = ui_server.live.services.tracking
    experiment = tracking.create_experiment(scope, "secret-exp")
    run = tracking.create_run(scope, experiment.id, "secret-run")
    tracking.log_batch(scope, run.id, [Metric("loss", 1.0, 0, 1_000)])
    tracking.log_bytes(scope, run.id, b"TOP-SECRET", "secret.txt")
    return {"experiment": experiment.id, "run": run.id}


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/", params=TEAM).text)
    assert found is not None
    return found.group(1)


def _in_team(path: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}workspace={WORKSPACE}"


def _no_markup(html: str) -> None:
    for raw in RAW_MARKUP:
        assert raw not in html, raw


# --- anonymous ---------------------------------------------------------------------------


def test_an_anonymous_client_gets_the_login_form_for_every_page_and_changes_nothing(
    ui_server: UiServer, hostile: dict[str, str]
) -> None:
    run = hostile["run0"]
    pages = [
        "/", f"/experiments/{hostile['experiment']}", f"/runs/{run}",
        f"/runs/{run}/artifact?path=notes.txt", f"/runs/{run}/series?key=loss",
        f"/compare?runs={run},{hostile['run1']}", "/models", "/datasets", "/deployments",
        "/pipelines", "/lineage", "/admin", "/switch?workspace=team",
    ]  # fmt: skip
    with httpx.Client(base_url=ui_server.url) as anonymous:
        for path in pages:
            answer = anonymous.get(path)
            assert answer.status_code == 303, path
            assert urlsplit(answer.headers["location"]).path == "/login"
            assert "gnomon_workspace" not in answer.headers.get("set-cookie", "")
            assert answer.content == b""
        for path in ("/models/m/aliases", "/deployments/d/promote", "/deployments/d/rollback"):
            answer = anonymous.post(path, data={"csrf": "", "alias": "a", "version": "1"})
            assert answer.status_code == 401, path
        # a forged or oversized session cookie is no session
        for token in ("gnm_forged", "x" * 5000):
            anonymous.cookies.set("gnomon_session", token)
            assert anonymous.get("/").status_code == 303


# --- a viewer of team against workspace other --------------------------------------------


def test_a_viewer_reads_nothing_of_a_workspace_they_are_not_in(
    ui_server: UiServer, hostile: dict[str, str], other: dict[str, str]
) -> None:
    secret = other["run"]
    with logged_in(ui_server, "viewer") as client:
        refused = client.get("/", params={"workspace": "other"})
        missing = client.get("/", params={"workspace": "no-such-workspace"})
        assert refused.status_code == missing.status_code == 404
        # the same words as for a workspace that does not exist: no probing for names
        assert refused.text.replace("other", "N") == missing.text.replace("no-such-workspace", "N")
        switched = client.get("/switch", params={"workspace": "other", "next": "/"})
        assert switched.status_code == 404 and "set-cookie" not in switched.headers
        for path in (
            f"/experiments/{other['experiment']}",
            f"/runs/{secret}",
            f"/runs/{secret}/artifact?path=secret.txt&download=1",
            f"/runs/{secret}/series?key=loss",
            f"/compare?runs={hostile['run0']},{secret}",
            f"/lineage?object=run:{secret}",
            f"/pipelines/runs/{secret}",
        ):
            answer = client.get(_in_team(path))
            assert answer.status_code == 404, path
            assert "TOP-SECRET" not in answer.text and "secret-run" not in answer.text
        # a workspace cookie set by hand falls back to a workspace the viewer is in
        client.cookies.set("gnomon_workspace", "other")
        listing = client.get("/")
        assert listing.status_code == 200 and "secret-exp" not in listing.text
        assert 'data-role="viewer"' in listing.text


def test_a_viewer_cannot_edit_with_their_own_valid_form_token(ui_server: UiServer) -> None:
    with logged_in(ui_server, "viewer") as client:
        csrf = _csrf(client)
        for path, body in (
            ("/models/any/aliases", {"alias": "prod", "version": "1"}),
            ("/deployments/any/promote", {"revision": "1"}),
            ("/deployments/any/rollback", {"revision": "1"}),
        ):
            answer = client.post(path, params=TEAM, data={**body, "csrf": csrf})
            assert answer.status_code == 403, path
            assert "needs editor" in answer.text
        assert client.get("/admin", params=TEAM).status_code == 403


def test_a_workspace_admin_sees_only_their_workspace_in_administration(
    ui_server: UiServer, other: dict[str, str]
) -> None:
    auth = ui_server.live.services.auth
    assert auth is not None
    auth.create_user(_root(ui_server), "team-admin", PASSWORD)
    auth.add_member(_root(ui_server), WORKSPACE, "team-admin", Role.ADMIN)
    with logged_in(ui_server, "team-admin") as client:
        for section in ("members", "audit", "tokens"):
            query = {**TEAM, "section": section, "of": "other", "user": "mallory"}
            answer = client.get("/admin", params=query)
            assert answer.status_code == 200 and "mallory" not in answer.text, section
        for section in ("users", "workspaces"):
            query = {**TEAM, "section": section}
            assert client.get("/admin", params=query).status_code == 403


# --- a hostile editor's names and files ----------------------------------------------------


def test_hostile_names_and_files_are_text_in_every_page(
    ui_server: UiServer, hostile: dict[str, str]
) -> None:
    run0, run1 = hostile["run0"], hostile["run1"]
    experiment = f"/experiments/{hostile['experiment']}"
    with logged_in(ui_server, "viewer") as client:
        pages = [
            client.get("/", params=TEAM),
            client.get(experiment, params={**TEAM, "columns": "params.p,tags.note"}),
            client.get(f"/runs/{run0}", params=TEAM),
            client.get(f"/runs/{run0}", params={**TEAM, "path": "notes.txt"}),
            client.get(f"/runs/{run0}", params={**TEAM, "path": "table.csv"}),
            client.get(f"/runs/{run0}", params={**TEAM, "path": "table.parquet"}),
            client.get("/compare", params={**TEAM, "runs": f"{run0},{run1}", "metric": "loss"}),
        ]  # fmt: skip
        for answer in pages:
            assert answer.status_code == 200, answer.url
            _no_markup(answer.text)
            assert "&lt;img src=x onerror=alert(2)&gt;" in answer.text, answer.url
        compare = pages[-1].text
        # the chart's JSON cannot close its <script>: Jinja's tojson writes < as \u003c
        payloads = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', compare)
        assert payloads and all("<" not in p for p in payloads)
        assert "\\u003c/script\\u003e" in payloads[0]
        # the parallel-coordinates SVG carries the names as escaped text only
        svg = re.search(r"<svg class=\"parallel\".*?</svg>", compare, re.S)
        assert svg is not None and "&lt;svg onload=alert(3)&gt;" in svg.group(0)
        # a javascript: "remote" is shown as text, never as a link
        assert 'href="javascript:' not in pages[2].text


def test_no_artifact_is_ever_served_as_a_page_of_this_site(
    ui_server: UiServer, hostile: dict[str, str]
) -> None:
    path = f"/runs/{hostile['run0']}/artifact"
    with logged_in(ui_server, "viewer") as client:
        for name in ("page.html", "image.svg", "notes.txt", "table.csv"):
            answer = client.get(path, params={**TEAM, "path": name})
            assert answer.status_code == 200, name
            assert answer.headers["content-type"] == "application/octet-stream"
            disposition = answer.headers["content-disposition"]
            assert disposition.startswith(f'attachment; filename="{name}";')
            assert all(h in answer.headers for h in SECURITY_HEADERS)
        # an "image" full of HTML keeps its image type; nosniff forbids reading it as a page
        fake = client.get(path, params={**TEAM, "path": "fake.png"})
        assert fake.headers["content-type"] == "image/png"
        assert fake.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in fake.headers["content-security-policy"]
        quoted = client.get(path, params={**TEAM, "path": 'quo"te\\.txt'})
        assert quoted.status_code == 200
        assert quoted.headers["content-disposition"].count('"') == 2


# Found: an artifact whose name holds CR/LF (the tracking service accepts it) makes the
# download's Content-Disposition header invalid: uvicorn refuses to send it and the client
# gets no response at all. Fixed in run_details.artifact_answer: keep only printable ASCII other
# than '"' and '\\' in filename= (fallback "artifact") and add filename*=UTF-8''<quoted name>.
def test_an_artifact_name_with_a_line_break_downloads_without_breaking_the_headers(
    ui_server: UiServer, hostile: dict[str, str]
) -> None:
    tracking, scope = ui_server.live.services.tracking, ui_server.scope
    name = "split\r\nX-Injected: 1.txt"
    tracking.log_bytes(scope, hostile["run1"], b"data", name)
    with logged_in(ui_server, "viewer") as client:
        answer = client.get(f"/runs/{hostile['run1']}/artifact", params={**TEAM, "path": name})
        assert answer.status_code == 200
        assert "x-injected" not in answer.headers
        assert answer.headers["content-disposition"].startswith("attachment;")


# Found: a 10 KB parquet artifact decompresses to a single 30 MB cell, and the run page
# renders all of it (a 300 MB cell makes a 300 MB page and more server memory). Fixed in
# run_details._table: refuse a parquet file whose metadata says its first row group is over
# PREVIEW_BYTES uncompressed (file.metadata.row_group(0).total_byte_size), read at most
# TABLE_ROWS rows, and cut each shown cell and column list (e.g. 500 chars, 100 columns).
def test_a_parquet_bomb_does_not_blow_up_the_run_page(
    ui_server: UiServer, hostile: dict[str, str]
) -> None:
    tracking, scope = ui_server.live.services.tracking, ui_server.scope
    bomb = _parquet(pa.table({"c": ["a" * (30 * 1024 * 1024)]}))
    assert len(bomb) < 64 * 1024
    tracking.log_bytes(scope, hostile["run1"], bomb, "bomb.parquet")
    with logged_in(ui_server, "viewer") as client:
        answer = client.get(f"/runs/{hostile['run1']}", params={**TEAM, "path": "bomb.parquet"})
        assert answer.status_code == 200
        assert len(answer.content) < 2 * 1024 * 1024


def test_artifact_paths_never_leave_the_run(ui_server: UiServer, hostile: dict[str, str]) -> None:
    run = hostile["run0"]
    with logged_in(ui_server, "viewer") as client:
        for path in (
            "../../../../etc/passwd", "/etc/passwd", "..%2F..%2Fetc%2Fpasswd", "notes.txt/../../x",
            "..\\..\\x.txt", "%00.txt", "./notes.txt/..", "~/.ssh/id_rsa",
        ):  # fmt: skip
            download = client.get(f"/runs/{run}/artifact", params={**TEAM, "path": path})
            assert 400 <= download.status_code < 500, path
            shown = client.get(f"/runs/{run}", params={**TEAM, "path": path})
            assert shown.status_code in (200, 400, 404, 422), path
            assert "root:" not in download.text + shown.text


def test_hostile_names_run_no_script_in_a_real_browser(
    page: Page, ui_server: UiServer, hostile: dict[str, str]
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, ui_server, "viewer")
    run0, run1 = hostile["run0"], hostile["run1"]
    base = f"{ui_server.url}"
    page.goto(f"{base}/experiments/{hostile['experiment']}?workspace=team&columns=params.p")
    assert EVIL.split("\u2028")[0] in page.locator("#runs").inner_text()
    page.goto(f"{base}/runs/{run0}?workspace=team&path=table.csv")
    page.locator("figure.chart[data-drawn=true]").wait_for()
    assert "alert(2)" in page.locator("#preview").inner_text()
    page.goto(f"{base}/compare?workspace=team&runs={run0},{run1}")
    page.locator("figure.chart[data-drawn=true]").wait_for()
    assert "onerror=alert(2)" in page.locator("figure.chart .u-legend").first.inner_text()
    assert page.locator("svg.parallel polyline.run").count() == 2
    page.goto(f"{base}/runs/{run0}/artifact?workspace=team&path=fake.png")
    page.wait_for_timeout(200)
    assert dialogs == []


# --- another site ---------------------------------------------------------------------------


def test_forms_posted_from_another_site_or_without_the_token_change_nothing(
    ui_server: UiServer,
) -> None:
    with logged_in(ui_server, "editor") as client, logged_in(ui_server, "viewer") as viewer:
        csrf, viewers_csrf = _csrf(client), _csrf(viewer)
        assert csrf != viewers_csrf
        for origin in ("https://evil.example", "null", "http://localhost.evil.example"):
            for path in ("/logout", "/models/any/aliases", "/deployments/any/promote"):
                answer = client.post(path, data={"csrf": csrf}, headers={"Origin": origin})
                assert answer.status_code == 403, (origin, path)
            login_post = httpx.post(
                f"{ui_server.url}/login",
                data={"username": "editor", "password": PASSWORD},
                headers={"Origin": origin},
            )
            assert login_post.status_code == 403 and "set-cookie" not in login_post.headers
        for token in ("", "0" * 40, viewers_csrf):  # none, guessed, another session's
            assert client.post("/logout", data={"csrf": token}).status_code == 403
        assert client.get("/logout").status_code == 405  # GET never logs out
        assert client.get("/", params=TEAM).status_code == 200  # still logged in


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
        "https://evil.example", "http:/evil.example", "javascript:alert(1)",
        "/\t/evil.example", "/\r\n/evil.example", " //evil.example", "/%2F%2Fevil.example",
        "/%5Cevil.example", "/\u3000/evil.example", "x" * 3000,
    ],
)  # fmt: skip
def test_no_redirect_leads_to_another_site(ui_server: UiServer, target: str) -> None:
    body = {"username": "viewer", "password": PASSWORD, "next": target}
    answers = [httpx.post(f"{ui_server.url}/login", data=body)]
    with logged_in(ui_server, "viewer") as client:
        answers.append(client.get("/switch", params={"workspace": WORKSPACE, "next": target}))
        form = client.get("/login", params={"next": target[:2000]})
        assert form.status_code == 200
        hidden = re.search(r'name="next" value="([^"]*)"', form.text)
        assert hidden is not None and not hidden.group(1).startswith(("//", "/\\"))
    for answer in answers:
        if answer.status_code == 400:  # /switch refuses a next= over 2,000 characters
            continue
        assert answer.status_code == 303
        location = urlsplit(answer.headers["location"])
        assert location.scheme == "" and location.netloc == ""
        assert answer.headers["location"].startswith("/")
        assert not answer.headers["location"].startswith(("//", "/\\"))


# Found: any link from another site (a chat message, an e-mail, a wiki) logs the user out.
# SameSite=Strict keeps the session cookie off the cross-site navigation, the page answers
# with the login redirect, and render.login_redirect deletes the cookie the browser still
# holds. Fixed: in login_redirect delete the cookie only when the request carried one (an
# expired or revoked one); better, issue the session cookie SameSite=Lax — the GET pages
# change nothing and every POST checks Origin and the form token — so shared links open.
def test_a_link_from_another_site_does_not_log_the_user_out(
    page: Page, ui_server: UiServer, hostile: dict[str, str]
) -> None:
    login(page, ui_server, "viewer")
    target = f"{ui_server.url}/runs/{hostile['run0']}?workspace=team"
    page.context.route(
        "http://evil.test/**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=f'<a id="go" href="{target}">run</a>'
        ),
    )
    page.goto("http://evil.test/")
    page.click("#go")
    page.wait_for_load_state()
    assert "gnomon_session" in {c["name"] for c in page.context.cookies()}


# --- logging in -------------------------------------------------------------------------------


def test_the_login_form_is_rate_limited_like_the_api(ui_server: UiServer) -> None:
    auth = ui_server.live.services.auth
    assert auth is not None
    auth.create_user(_root(ui_server), "victim", "victim-password-1")
    url = f"{ui_server.url}/login"
    statuses = [
        httpx.post(url, data={"username": "victim", "password": f"guess-{i}"}).status_code
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    right = httpx.post(url, data={"username": "victim", "password": "victim-password-1"})
    assert right.status_code == 429 and "set-cookie" not in right.headers
    assert 'name="username"' in right.text  # the form again, with the reason
    others = httpx.post(url, data={"username": "viewer", "password": PASSWORD})
    assert others.status_code == 303  # the limit is the victim's, not everyone's


def test_a_session_is_new_at_each_login_and_dies_at_logout(ui_server: UiServer) -> None:
    planted = {"Cookie": "gnomon_session=gnm_chosen_by_the_attacker"}
    body = {"username": "viewer", "password": PASSWORD}
    answer = httpx.post(f"{ui_server.url}/login", data=body, headers=planted)
    cookie = answer.headers["set-cookie"]
    assert all(flag in cookie.lower() for flag in ("httponly", "samesite=lax", "path=/"))
    found = re.match(r"gnomon_session=([^;]+);", cookie)
    assert found is not None and found[1] != "gnm_chosen_by_the_attacker"
    token = found[1]
    with httpx.Client(base_url=ui_server.url, cookies={"gnomon_session": token}) as client:
        assert client.get("/", params=TEAM).status_code == 200
        assert client.post("/logout", data={"csrf": _csrf(client)}).status_code == 303
    replay = httpx.get(ui_server.url + "/", cookies={"gnomon_session": token})
    assert replay.status_code == 303 and replay.headers["location"].startswith("/login")


def test_every_answer_of_the_ui_carries_the_security_headers(
    ui_server: UiServer, hostile: dict[str, str]
) -> None:
    series = f"/runs/{hostile['run0']}/series"
    with logged_in(ui_server, "viewer") as client:
        answers = [
            client.get("/login"),
            client.get("/", params=TEAM),
            client.get("/runs/nope", params=TEAM),
            client.get(series, params={**TEAM, "key": "loss"}),
            client.get(series, params={**TEAM, "key": "loss", "points": -1}),
            client.post("/logout", data={"csrf": "forged"}),
            httpx.get(f"{ui_server.url}/"),
        ]  # fmt: skip
        for answer in answers:
            for header in SECURITY_HEADERS:
                assert header in answer.headers, (answer.url, header)
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
            assert answer.headers["cache-control"] == "no-store"


# --- malformed input ---------------------------------------------------------------------------

WEIRD = [
    "%FF%FE", "%C0%AF", "%00", "-1", "0", "99999999999999999999999", "1e309", "nan",
    "x" * 2100, "'\"<>", "../../etc/passwd", "a@b@c", "run:x", ",,,", "%E2%80%AE",
]  # fmt: skip


def _get_routes() -> list[tuple[str, list[str]]]:
    import importlib

    routes = []
    for name in PAGE_MODULES:
        for route in importlib.import_module(name).router.routes:
            if "GET" in route.methods:
                routes.append((route.path, [p.alias for p in route.dependant.query_params]))
    return routes


def test_no_malformed_query_or_path_makes_a_500(
    ui_server: UiServer, hostile: dict[str, str]
) -> None:
    known = {"experiment_id": hostile["experiment"], "run_id": hostile["run0"]}
    failed: list[Any] = []
    with logged_in(ui_server, "viewer") as client:
        for path, params in _get_routes():
            for value in WEIRD:
                urls = [re.sub(r"\{(\w+)(:path)?\}", lambda m, v=value: v, path)]
                real = re.sub(r"\{(\w+)(:path)?\}", lambda m: known.get(m[1], "x"), path)
                urls += [f"{real}?{p}={value}" for p in params]
                for url in urls:
                    sep = "&" if "?" in url else "?"
                    answer = client.get(f"{url}{sep}workspace=team")
                    if answer.status_code >= 500:
                        failed.append((url[:100], answer.status_code))
        for value in WEIRD:
            answer = client.get("/", params={"workspace": value})
            if answer.status_code >= 500:
                failed.append(("workspace", value))
    assert failed == []


def test_lists_and_numbers_out_of_bounds_are_400s(
    ui_server: UiServer, hostile: dict[str, str]
) -> None:
    run = hostile["run0"]
    with logged_in(ui_server, "viewer") as client:
        cases = [
            (f"/experiments/{hostile['experiment']}", {"columns": "params.a," * 250}),
            (f"/experiments/{hostile['experiment']}", {"columns": "nothing.a"}),
            (f"/experiments/{hostile['experiment']}", {"filter": "params.p = '" + "\\" * 1999}),
            (f"/experiments/{hostile['experiment']}", {"order": "x; drop table runs"}),
            (f"/experiments/{hostile['experiment']}", {"page": "not-a-token"}),
            (f"/runs/{run}", {"metrics": "loss," * 500}),
            (f"/runs/{run}/series", {"key": "loss", "points": 0}),
            (f"/runs/{run}/series", {"key": "loss", "points": 10**9}),
            (f"/runs/{run}/series", {"key": "loss", "start": 2**63}),
            ("/compare", {"runs": ",".join(f"{i:032x}" for i in range(21))}),
            ("/compare", {"runs": "a" * 60_000}),
            ("/compare", {"runs": [f"{i:032x}" for i in range(200)]}),
            ("/compare", {"runs": run}),
        ]
        for path, query in cases:
            answer = client.get(path, params={**TEAM, **query})
            assert 400 <= answer.status_code < 500, (path, str(query)[:80], answer.status_code)
            assert "Traceback" not in answer.text
        # a zoom the other way round is an empty answer, not an error
        backwards = client.get(
            f"/runs/{run}/series", params={**TEAM, "key": "loss", "start": 9, "end": 1}
        )
        assert backwards.status_code == 200


def test_malformed_forms_are_refused_before_they_are_read(ui_server: UiServer) -> None:
    url = f"{ui_server.url}/login"
    form = {"content-type": "application/x-www-form-urlencoded"}

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"a" * 1000

    cases = [
        (httpx.post(url, content=b"username=" + b"a" * 20_000, headers=form), 413),
        (httpx.post(url, content=chunks(), headers=form), 413),  # no Content-Length
        (httpx.post(url, content=b"&".join(b"f%d=1" % i for i in range(40)), headers=form), 422),
        (httpx.post(url, content=b"username=\xff\xfe&password=x", headers=form), 422),
        (httpx.post(url, json={"username": "viewer", "password": PASSWORD}), 422),
        (httpx.post(url, files={"username": ("u", b"viewer")}), 422),
        (httpx.post(url, data={"username": "x" * 300, "password": "p"}), 422),
        (httpx.post(url, data={"username": "<script>", "password": "p"}), 422),
    ]
    for answer, status in cases:
        assert answer.status_code == status, answer.text[:200]
        assert "set-cookie" not in answer.headers


# --- gnomon ui: no login, loopback only ----------------------------------------------------------


@pytest.fixture(scope="module")
def open_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """What ``gnomon ui`` serves: no login, every caller an administrator."""
    home = tmp_path_factory.mktemp("open-ui")
    with serve(server_settings(f"sqlite:///{home / 'gnomon.db'}", home), no_auth=True) as live:
        yield live


def test_without_logins_another_site_still_cannot_post_a_form(open_ui: LiveServer) -> None:
    for origin in ("https://evil.example", "null"):
        answer = httpx.post(
            f"{open_ui.url}/models/m/aliases",
            data={"alias": "a", "version": "1"},
            headers={"Origin": origin},
        )
        assert answer.status_code == 403
    assert httpx.post(f"{open_ui.url}/models/m/aliases", data={"csrf": "0" * 40}).status_code == 403
    port = urlsplit(open_ui.url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        assert httpx.get(f"{open_ui.url}/", headers={"Host": host}).status_code == 200


# Found: DNS rebinding. `gnomon ui` (and `gnomon server --no-auth`) trust whoever reaches the
# loopback port, but never check the Host header: a page of attacker.example whose name is
# re-pointed at 127.0.0.1 is then same-origin with the UI and the API, reads every page (its
# form tokens too) and posts forms whose Origin matches that Host. Fixed: when no_auth, answer
# 400/421 unless the Host header's name is a loopback name (localhost, 127.0.0.1, [::1]) —
# a small middleware in server/app.create_app (Starlette's TrustedHostMiddleware mishandles
# "[::1]:port").
def test_without_logins_a_rebound_host_name_is_refused(open_ui: LiveServer) -> None:
    port = urlsplit(open_ui.url).port
    rebound = f"attacker.example:{port}"
    page = httpx.get(f"{open_ui.url}/", headers={"Host": rebound})
    api = httpx.get(f"{open_ui.url}/api/v1/experiments", headers={"Host": rebound})
    assert page.status_code in (400, 403, 421)
    assert api.status_code in (400, 403, 421)
