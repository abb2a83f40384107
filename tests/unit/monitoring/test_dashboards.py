"""deploy/: the Grafana dashboard and the Prometheus files query only what the servers export.

The exported names come from the servers' own registries, not from a list kept here: a metric
renamed in the code fails these tests until the dashboard follows.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from gnomon.automation.exported import EXPORTED as ROLLOUTS_EXPORTED
from gnomon.automation.exported import RolloutCollector, RolloutFigures
from gnomon.features import exported as features_exported
from gnomon.monitoring.prometheus import EXPORTED, MonitorCollector
from gnomon.serving.metrics import ServingMetrics

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "gnomon-deployment.json"
PROMETHEUS = DEPLOY / "prometheus"
DATASOURCE = "${datasource}"

# The series each metric type exposes; `_created` is left out: no query has a use for it.
SERIES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
}
# Labels Prometheus adds to every series, and the one prometheus.yml gives model servers.
TARGET_LABELS = {"job", "instance"}
SERVED_BY = {"deployment"}

_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`'
_METRIC = re.compile(r"(?<![\w:])gnomon_[A-Za-z0-9_:]*")
_SELECTOR = re.compile(r"(?<![\w:])(gnomon_[A-Za-z0-9_:]*)\s*\{((?:[^}\"]|" + _STRING + r")*)\}")
_MATCHER = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)\s*(?:" + _STRING + ")")


def exported_labels() -> dict[str, set[str]]:
    """Every series name the servers export, with the labels a query may select it by."""
    registry = CollectorRegistry()
    serving = ServingMetrics(registry)
    registry.register(MonitorCollector(lambda: []))
    registry.register(RolloutCollector(RolloutFigures))
    # A labelled metric has no samples before its first child: its label names are read from
    # the metric objects (the collectors' from their tables).
    own = {m._name: set(m._labelnames) for m in vars(serving).values() if _is_metric(m)}
    collected = (*EXPORTED, *ROLLOUTS_EXPORTED)  # labelled by the API server, not a target
    own.update({spec.name: set(spec.labels) for spec in collected})
    labels: dict[str, set[str]] = {}
    for family in registry.collect():
        extra = SERVED_BY if family.name not in {spec.name for spec in collected} else set()
        for suffix in SERIES[family.type]:
            bucket = {"le"} if suffix == "_bucket" else set()
            labels[family.name + suffix] = own[family.name] | TARGET_LABELS | extra | bucket
    # The API server exports the model server's feature metrics too, by workspace and view.
    for family in features_exported.FreshnessCollector(list).collect():
        for suffix in SERIES[family.type]:
            labels[family.name + suffix] |= set(features_exported.LABELS)
    return labels


def _is_metric(value: object) -> bool:
    return isinstance(value, MetricWrapperBase)


def dashboard_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable."""
    for panel in _panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r} {target['refId']}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            yield (
                f"variable {variable['name']}",
                query if isinstance(query, str) else query["query"],
            )


def unknown_metrics(queries: Iterator[tuple[str, str]], exported: dict[str, set[str]]) -> list[str]:
    """Each query's series names the servers do not export, and label names they lack."""
    problems = []
    for where, expr in queries:
        for name in _METRIC.findall(re.sub(_STRING, '""', expr)):
            if name not in exported:
                problems.append(f"{where}: {name}")
        for name, matchers in _SELECTOR.findall(expr):
            for label in _MATCHER.findall(matchers):
                if name in exported and label not in exported[name]:
                    problems.append(f"{where}: {name} has no label {label}")
    return problems


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # a row's collapsed panels


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


@pytest.fixture(scope="module")
def exported() -> dict[str, set[str]]:
    return exported_labels()


def test_the_dashboard_picks_its_data_source_and_deployment(dashboard: dict[str, Any]) -> None:
    assert dashboard["schemaVersion"] >= 38
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name in ("deployment", "workspace"):
        assert variables[name]["type"] == "query"
        assert variables[name]["datasource"]["uid"] == DATASOURCE
        assert variables[name]["query"]["query"].startswith("label_values(")
        assert variables[name]["query"]["query"].endswith(f", {name})")


def test_every_panel_queries_through_the_datasource_variable(dashboard: dict[str, Any]) -> None:
    panels = [p for p in _panels(dashboard["panels"]) if p["type"] != "row"]
    assert len({p["id"] for p in panels}) == len(panels) > 0
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE, panel["title"]
            assert _METRIC.search(target["expr"]), (panel["title"], target["expr"])


def test_the_dashboard_queries_only_exported_metrics_and_labels(
    dashboard: dict[str, Any], exported: dict[str, set[str]]
) -> None:
    assert unknown_metrics(dashboard_queries(dashboard), exported) == []


def test_the_dashboard_shows_each_signal_of_a_deployment(dashboard: dict[str, Any]) -> None:
    used = {name for _, expr in dashboard_queries(dashboard) for name in _METRIC.findall(expr)}
    assert used >= {
        "gnomon_predictions_total",
        "gnomon_prediction_seconds_bucket",
        "gnomon_http_requests_total",
        "gnomon_contract_violations_total",
        "gnomon_records_dropped_total",
        "gnomon_monitor_drift_score",
        "gnomon_monitor_drift_share",
        "gnomon_monitor_outlier_rate",
        "gnomon_monitor_performance",
        "gnomon_alerts_firing",
        "gnomon_rollout_candidate_weight",
        "gnomon_rollout_state",
        "gnomon_rollout_stage",
        "gnomon_rollout_decisions_total",
        "gnomon_feature_age_seconds",
        "gnomon_feature_stale_total",
    }


@pytest.mark.parametrize(
    ("expr", "unknown"),
    [
        ("rate(gnomon_predictions_totl[5m])", "gnomon_predictions_totl"),
        ("rate(gnomon_predictions[5m])", "gnomon_predictions"),  # a counter without _total
        ("gnomon_prediction_seconds", "gnomon_prediction_seconds"),  # a histogram's bare name
        ("gnomon_monitor_drift_score_total", "gnomon_monitor_drift_score_total"),  # a gauge
        ('gnomon_monitor_rows{deployment="$deployment", column="age"}', "no label column"),
        ('gnomon_alerts_firing{deployment="churn"}', "no label deployment"),
        ('gnomon_predictions_total{le="1"}', "no label le"),
    ],
)
def test_the_checker_catches_a_metric_or_label_no_server_exports(
    dashboard: dict[str, Any], exported: dict[str, set[str]], expr: str, unknown: str
) -> None:
    mutated = copy.deepcopy(dashboard)
    mutated["panels"][0]["targets"][0]["expr"] = expr
    problems = unknown_metrics(dashboard_queries(mutated), exported)
    assert len(problems) == 1 and problems[0].endswith(unknown), problems


def test_the_checker_reads_no_metric_name_inside_a_label_value(
    exported: dict[str, set[str]],
) -> None:
    queries = iter([("q", 'gnomon_http_requests_total{route="/gnomon_nowhere"}')])
    assert unknown_metrics(queries, exported) == []


def test_prometheus_scrapes_both_servers_the_monitors_the_rollouts_and_features() -> None:
    from gnomon.automation import metrics_routes
    from gnomon.features import metrics_routes as feature_routes
    from gnomon.monitoring import routes
    from gnomon.server.app import mounted_routers

    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    authenticated = {
        "gnomon-monitors": routes,
        "gnomon-rollouts": metrics_routes,
        "gnomon-features": feature_routes,
    }
    assert set(jobs) == {"gnomon-server", "gnomon-serve", *authenticated}
    assert jobs["gnomon-server"]["metrics_path"] == jobs["gnomon-serve"]["metrics_path"]
    assert jobs["gnomon-server"]["metrics_path"] == "/metrics"
    assert [t for c in jobs["gnomon-server"]["static_configs"] for t in c["targets"]]
    # The monitors', the rollouts' and the features' routes, as the API server mounts them,
    # with a token.
    for job, module in authenticated.items():
        prefix = next(p for p, r in mounted_routers() if r is module.router)
        paths = {prefix + route.path for route in module.router.routes}
        assert jobs[job]["metrics_path"] in paths, job
        assert jobs[job]["authorization"]["type"] == "Bearer"
        # Their own deployment label must not be shadowed by a target label.
        assert all("deployment" not in c.get("labels", {}) for c in jobs[job]["static_configs"])
    assert all("deployment" in c["labels"] for c in jobs["gnomon-serve"]["static_configs"])
    for rules in config["rule_files"]:
        assert (PROMETHEUS / rules).is_file()


def test_prometheus_alerts_query_only_exported_metrics(exported: dict[str, set[str]]) -> None:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    queries = [(r["alert"], r["expr"]) for g in groups for r in g["rules"]]
    assert len(queries) >= 5
    assert unknown_metrics(iter(queries), exported) == []
