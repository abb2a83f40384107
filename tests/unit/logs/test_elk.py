"""deploy/elk/ matches what the formatter writes: the index template maps every field of a
JSON line (and nothing gnomon does not write, besides the shipper's metadata), Logstash takes
the event time from the line's own field, and both name the same indices."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from gnomon.logs.context import log_context
from gnomon.logs.formatters import FIELDS, OPTIONAL_FIELDS, JsonFormatter

ELK = Path(__file__).parents[3] / "deploy" / "elk"
SHIPPER_FIELDS = {"@timestamp", "host", "container", "kubernetes", "error"}  # Filebeat's


def _template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads((ELK / "index-template.json").read_text())
    return template


def _mapped(properties: dict[str, Any], prefix: str = "") -> set[str]:
    """Every field path the mappings name (objects' own names included)."""
    paths = set()
    for name, mapping in properties.items():
        paths.add(prefix + name)
        paths |= _mapped(mapping.get("properties", {}), f"{prefix}{name}.")
    return paths


def _written(line: dict[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for name, value in line.items():
        paths.add(prefix + name)
        if isinstance(value, dict):
            paths |= _written(value, f"{prefix}{name}.")
    return paths


def _richest_line() -> dict[str, Any]:
    """A JSON line with every field the formatter can write."""
    try:
        raise KeyError("missing")
    except KeyError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("gnomon.access", logging.INFO, __file__, 1, "m", (), exc_info)
    record.stack_info = "Stack (most recent call last):"
    record.http = dict.fromkeys(OPTIONAL_FIELDS["http"], "x")
    with log_context("r", user="u", workspace="w", object="o"):
        line: dict[str, Any] = json.loads(JsonFormatter().format(record))
    return line


def test_the_template_maps_exactly_what_gnomon_writes() -> None:
    mapped = _mapped(_template()["template"]["mappings"]["properties"])
    written = _written(_richest_line())
    assert written == set(FIELDS) | {
        f"{name}.{sub}" if sub else name for name, subs in OPTIONAL_FIELDS.items() for sub in subs
    } | set(OPTIONAL_FIELDS)
    assert written <= mapped
    ours = {path for path in mapped if path.split(".")[0] not in SHIPPER_FIELDS}
    assert ours == written  # no mapping for a field gnomon no longer writes


def test_the_types_fit_the_values() -> None:
    properties = _template()["template"]["mappings"]["properties"]
    assert properties["timestamp"]["type"] == properties["@timestamp"]["type"] == "date"
    for keyword in ("level", "logger", "service", "request_id", "user", "workspace", "object"):
        assert properties[keyword]["type"] == "keyword", keyword
    http = properties["http"]["properties"]
    assert http["status"]["type"] == "short" and http["duration_ms"]["type"] == "float"
    assert (
        _template()["template"]["mappings"]["dynamic"] is False
    )  # unknown fields: kept, unindexed


def test_logstash_takes_the_lines_time_and_writes_the_templates_indices() -> None:
    pipeline = (ELK / "logstash.conf").read_text()
    date = re.search(r'date\s*\{\s*match\s*=>\s*\["(\w+)",\s*"ISO8601"\]', pipeline)
    assert date is not None and date.group(1) == "timestamp" and "timestamp" in FIELDS
    index = re.search(r'index\s*=>\s*"([^"%]+)%\{', pipeline)
    assert index is not None
    assert [f"{index.group(1)}*"] == _template()["index_patterns"]
    assert "password =>" in pipeline and "${ELASTICSEARCH_PASSWORD}" in pipeline


def test_filebeat_decodes_gnomons_stderr_lines() -> None:
    config = yaml.safe_load((ELK / "filebeat.yml").read_text())
    for stream in config["filebeat.inputs"]:
        parsers = {
            name: options for parser in stream["parsers"] for name, options in parser.items()
        }
        assert parsers["ndjson"]["target"] == "" and parsers["ndjson"]["message_key"] == "message"
        if "container" in parsers:
            assert parsers["container"]["stream"] == "stderr"  # stdout is not log lines
    assert config["output.logstash"]["hosts"] == ["logstash:5044"]
    assert "5044" in (ELK / "logstash.conf").read_text()
