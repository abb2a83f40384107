"""HTML views of registered models and versions for notebooks, built like the run views
(escaped, bounded, inline styles only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gnomon.tracking.html import (
    MAX_ROWS,
    block,
    cell,
    fields_table,
    format_time,
    key_value_table,
    left_out,
    table,
    text,
)

if TYPE_CHECKING:
    from gnomon.registry.entities import ModelVersion, RegisteredModel


def model_html(model: RegisteredModel) -> str:
    """A registered model: its latest version, its aliases and where each points, its tags."""
    fields = {
        "name": text(model.name),
        "latest version": text(model.latest_version),
        "created": format_time(model.created_time),
        "updated": format_time(model.updated_time),
    }
    if model.description:
        fields["description"] = text(model.description)
    aliases = sorted(model.aliases.items(), key=lambda item: (-item[1], item[0]))
    rows = (f"<tr>{cell(text(a))}{cell(text(v))}</tr>" for a, v in aliases[:MAX_ROWS])
    alias_table = table(["alias", "version"], rows, "Aliases") if aliases else ""
    return block(
        f"Registered model {model.name}",
        fields_table(fields),
        alias_table + left_out(len(aliases), "aliases"),
        key_value_table("Tags", model.tags),
    )


def version_html(version: ModelVersion) -> str:
    """One model version: flavor, status, aliases, source run, what the registry recorded of
    its files, its tags."""
    fields = {
        "model": text(version.model_name),
        "version": text(version.version),
        "status": text(version.status.value),
        "flavor": text(version.flavor or None),
        "aliases": text(", ".join(version.aliases) or None),
        "source run": text(version.run_id),
        "source": text(version.source),
        "created": f"{format_time(version.created_time)} by {text(version.created_by)}",
        "files": _files(version),
    }
    if version.description:
        fields["description"] = text(version.description)
    return block(
        f"Model {version.model_name} version {version.version}",
        fields_table(fields),
        key_value_table("Tags", version.tags),
    )


def _files(version: ModelVersion) -> str:
    if version.spec_sha256 is None:
        return "not recorded (this version cannot be loaded)"
    spec = text(version.spec_sha256[:12])
    return f"{len(version.files):,} files, spec sha256 <code>{spec}…</code>"
