"""A profile as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched
(its Content-Security-Policy forbids both), so it opens offline and from an e-mail.

``render(profile)`` shows one version; ``render(profile, other, histograms)`` two, overlaid:
``histograms`` are their shared numeric columns on the same bins (``profile.comparison``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gnomon.data import profile_svg as svg
from gnomon.data.profile import TOP, comparison, version_profile
from gnomon.data.profile_svg import esc, number
from gnomon.data.schema import NUMERIC

if TYPE_CHECKING:
    from gnomon._types import Scope
    from gnomon.data.service import DatasetService

Profile = Mapping[str, Any]
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222;
padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:0 0 6px;word-break:break-all}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #eee}
td:first-child,th:first-child{text-align:left}.type{color:#777;font-weight:normal}
.columns{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:16px}
.column{border:1px solid #ddd;border-radius:6px;padding:12px;overflow:auto}
.column .body{display:flex;gap:12px;flex-wrap:wrap}.key{display:inline-block;width:12px;height:12px}
.heatmaps{display:flex;gap:16px;flex-wrap:wrap}figure{margin:0}figcaption{font-weight:bold}
svg text{fill:#333;font-family:system-ui,sans-serif}.note{color:#666}
"""


def page(service: DatasetService, scope: Scope, ref: str, compare: str | None = None) -> str:
    """The page of version ``ref``, or of ``ref`` and ``compare`` overlaid."""
    if compare is None:
        return render(version_profile(service, scope, ref))
    both = comparison(service, scope, ref, compare)
    return render(both["profile"], both["compare"], both["histograms"])


def render(
    profile: Profile, other: Profile | None = None, histograms: Mapping[str, Any] | None = None
) -> str:
    """The page of ``profile``, or of ``profile`` and ``other`` overlaid."""
    profiles = [profile] if other is None else [profile, other]
    refs = " and ".join(f"<code>{esc(p['ref'])}</code>" for p in profiles)
    title = " vs ".join(str(p["ref"]) for p in profiles)
    body = [
        f"<h1>Profile of {refs}</h1>",
        _legend(profiles),
        _overview(profiles),
        _missing(profiles),
        _columns(profiles, histograms or {}),
        _correlations(profiles),
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Profile of {esc(title)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + '<p class="note">Made by gnomon from the stored profile.</p></body></html>\n'
    )


def _legend(profiles: Sequence[Profile]) -> str:
    items = []
    for index, p in enumerate(profiles):
        key = f'<span class="key" style="background:{svg.COLOURS[index]}"></span>'
        items.append(f"{key} <code>{esc(p['ref'])}</code>: {p['rows']:,} rows")
    note = " Charts of two versions show shares of each one's rows." if len(profiles) > 1 else ""
    return f'<p class="legend">{" &nbsp; ".join(items)}.{note}</p>'


def _names(profiles: Sequence[Profile]) -> list[str]:
    seen: dict[str, None] = {}
    for p in profiles:
        seen.update((c["name"], None) for c in p["columns"])
    return list(seen)


def _column(p: Profile, name: str) -> dict[str, Any] | None:
    return next((c for c in p["columns"] if c["name"] == name), None)


def _overview(profiles: Sequence[Profile]) -> str:
    heads = ["column", "type", "missing", "distinct", "mean", "std", "min", "max"]
    rows = []
    for name in _names(profiles):
        for index, p in enumerate(profiles):
            c = _column(p, name)
            label = esc(name) if index == 0 else ""
            key = f'<span class="key" style="background:{svg.COLOURS[index]}"></span> '
            if c is None:
                rows.append(f"<tr><td>{label}</td><td>{key}absent</td>" + "<td></td>" * 6)
                continue
            cells = [
                f"{key}{esc(c['type'])}",
                f"{c['missing']:,} ({c['missing_fraction']:.1%})",
                number(c.get("distinct")),
                *(_figure(c.get(f)) for f in ("mean", "std", "min", "max")),
            ]
            rows.append(f"<tr><td>{label}</td>" + "".join(f"<td>{x}</td>" for x in cells))
    head = "".join(f"<th>{h}</th>" for h in heads)
    return f'<h2>Columns</h2><table class="overview"><tr>{head}</tr>{"".join(rows)}</table>'


def _figure(value: object) -> str:
    if isinstance(value, str):
        return esc(value)  # a time, in ISO form
    return number(value) if isinstance(value, int | float) or value is None else esc(value)


def _missing(profiles: Sequence[Profile]) -> str:
    names = _names(profiles)
    series, tips = [], []
    for p in profiles:
        columns = [_column(p, name) for name in names]
        series.append([c["missing_fraction"] if c else 0.0 for c in columns])
        tips.append(
            [
                f"{p['ref']}: {c['missing']:,} missing" if c else f"absent from {p['ref']}"
                for c in columns
            ]
        )
    chart = svg.bars("missing", "all columns", names, series, tips)
    return f"<h2>Missing values</h2>{chart}"


def _columns(profiles: Sequence[Profile], histograms: Mapping[str, Any]) -> str:
    cards = []
    for name in _names(profiles):
        found = [_column(p, name) for p in profiles]
        kind = next(c["type"] for c in found if c is not None)
        table = _stats(profiles, found)
        chart = _chart(name, kind, profiles, found, histograms)
        cards.append(
            f'<article class="column"><h3>{esc(name)} <span class="type">{esc(kind)}</span></h3>'
            f'<div class="body">{table}{chart}</div></article>'
        )
    return f'<h2>Each column</h2><div class="columns">{"".join(cards)}</div>'


_FIGURES = (
    ("count", "count"),
    ("missing", "missing"),
    ("distinct", "distinct"),
    ("mean", "mean"),
    ("std", "std"),
    ("min", "min"),
    ("p05", "5%"),
    ("p25", "25%"),
    ("p50", "median"),
    ("p75", "75%"),
    ("p95", "95%"),
    ("max", "max"),
    ("zeros", "zeros"),
    ("infinite", "infinite"),
    ("length", "length (min/mean/max)"),
)


def _stats(profiles: Sequence[Profile], found: Sequence[dict[str, Any] | None]) -> str:
    rows = []
    for key, label in _FIGURES:
        values = [_stat(c, key) for c in found]
        if all(v is None for v in values):
            continue
        cells = "".join(
            f"<td>{'absent' if c is None else v or '—'}</td>"
            for c, v in zip(found, values, strict=True)
        )
        rows.append(f"<tr><td>{label}</td>{cells}</tr>")
    head = (
        "".join(f"<th>{esc(p['ref'])}</th>" for p in profiles) if len(profiles) > 1 else "<th></th>"
    )
    return f'<table class="stats"><tr><th></th>{head}</tr>{"".join(rows)}</table>'


def _stat(column: dict[str, Any] | None, key: str) -> str | None:
    if column is None:
        return None
    if key in ("p05", "p25", "p50", "p75", "p95"):
        value = (column.get("quantiles") or {}).get(key)
        return None if value is None else number(value)
    if key == "length":
        length = column.get("length")
        if not length:
            return None
        return " / ".join(number(length[k]) for k in ("min", "mean", "max"))
    if key not in column:
        return None
    return _figure(column[key])


def _chart(
    name: str,
    kind: str,
    profiles: Sequence[Profile],
    found: Sequence[dict[str, Any] | None],
    histograms: Mapping[str, Any],
) -> str:
    if kind in NUMERIC:
        if name in histograms:
            shared = histograms[name]
            return svg.histogram(name, shared["edges"], shared["counts"])
        own = next((c["histogram"] for c in found if c and c.get("histogram")), None)
        if own is None:
            return '<p class="note">no numbers to draw</p>'
        # In one version only: the other's series stays empty, so colours keep their meaning.
        series = [
            own["counts"] if c and c.get("histogram") else [0] * len(own["counts"]) for c in found
        ]
        return svg.histogram(name, own["edges"], series)
    if any(c and "top" in c for c in found):
        return _top_values(name, profiles, found)
    return ""


def _top_values(
    name: str, profiles: Sequence[Profile], found: Sequence[dict[str, Any] | None]
) -> str:
    labels: dict[str, None] = {}
    for c in found:
        labels.update((t["value"], None) for t in (c or {}).get("top", []))
    shown = list(labels)[:TOP]
    series, tips = [], []
    for p, c in zip(profiles, found, strict=True):
        counts = {t["value"]: t["count"] for t in (c or {}).get("top", [])}
        total = (c or {}).get("count") or 1
        series.append([counts.get(v, 0) / total for v in shown])
        tips.append(
            [
                f"{p['ref']}: {counts[v]:,} rows" if v in counts else f"{p['ref']}: not in its top"
                for v in shown
            ]
        )
    return svg.bars("top-values", name, shown, series, tips)


def _correlations(profiles: Sequence[Profile]) -> str:
    figures = []
    for p in profiles:
        found = p["correlations"]
        if len(found["columns"]) >= 2:
            figures.append(_figure_of(str(p["ref"]), found["columns"], found["matrix"]))
    if len(profiles) == 2:
        change = _change(profiles[0]["correlations"], profiles[1]["correlations"])
        if change is not None:
            figures.append(
                _figure_of(f"change, {profiles[1]['ref']} minus {profiles[0]['ref']}", *change)
            )
    if not figures:
        return '<h2>Correlations</h2><p class="note">fewer than two numeric columns</p>'
    limits = profiles[0]["limits"]
    note = (
        f'<p class="note">Pearson, over the rows where both columns hold a number; the first '
        f"{_count(limits.get('correlated_columns'))} numeric columns. Red is positive, blue "
        "negative, grey undefined (a constant column, or under two rows).</p>"
    )
    return f'<h2>Correlations</h2>{note}<div class="heatmaps">{"".join(figures)}</div>'


def _figure_of(
    caption: str, columns: Sequence[str], matrix: Sequence[Sequence[float | None]]
) -> str:
    chart = svg.heatmap(caption, columns, matrix)
    return f"<figure><figcaption>{esc(caption)}</figcaption>{chart}</figure>"


def _change(
    first: Mapping[str, Any], second: Mapping[str, Any]
) -> tuple[list[str], list[list[float | None]]] | None:
    common = [c for c in first["columns"] if c in second["columns"]]
    if len(common) < 2:
        return None
    at = [{c: i for i, c in enumerate(m["columns"])} for m in (first, second)]
    matrix = []
    for a in common:
        row = []
        for b in common:
            x = first["matrix"][at[0][a]][at[0][b]]
            y = second["matrix"][at[1][a]][at[1][b]]
            row.append(None if x is None or y is None else y - x)
        matrix.append(row)
    return common, matrix


def _count(value: object) -> str:
    """A count from the stored profile, which anyone who can write the store can edit."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "?"
