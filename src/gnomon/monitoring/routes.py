"""Monitoring REST routes under /api/v1: thin handlers over MonitorService.

Viewers read monitors, results, reports, rules and events; editors create, run and delete
monitors and their rules and silences; only workspace admins manage alert channels (where
alerts go), whose listing hides header values.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from gnomon._types import now_ms
from gnomon.auth.entities import AuditAction
from gnomon.monitoring.alert_rules import AlertRule, Silence
from gnomon.monitoring.entities import MonitorSpec
from gnomon.monitoring.schemas import (
    ChannelBody,
    CreateMonitor,
    MonitorOut,
    MonitorRunOut,
    RuleBody,
    RuleOut,
    RunMonitor,
    SilenceBody,
    SilenceCreated,
    WindowOut,
)
from gnomon.monitoring.service import MAX_RESULTS, MonitorService
from gnomon.server.access import Access, Caller, require
from gnomon.server.audit import audit
from gnomon.server.respond import wire
from gnomon.wire import QueryMillis, Text

router = APIRouter(tags=["monitoring"])

Reader = Annotated[Caller, Depends(require(Access.VIEWER))]
Writer = Annotated[Caller, Depends(require(Access.EDITOR))]
Admin = Annotated[Caller, Depends(require(Access.WORKSPACE_ADMIN))]
Limit = Annotated[int, Query(ge=1, le=MAX_RESULTS)]


async def _monitors(request: Request) -> MonitorService:  # async: no threadpool hop
    service: MonitorService = request.app.state.services.get(MonitorService)
    return service


Monitors = Annotated[MonitorService, Depends(_monitors)]


GlobalAdmin = Annotated[Caller, Depends(require(Access.GLOBAL_ADMIN))]


@router.get(
    "/metrics/monitors",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text."}},
)
def monitor_metrics(caller: GlobalAdmin, monitors: Monitors) -> Response:
    """Every workspace's monitors' latest figures as Prometheus gauges (a global admin's
    token: the figures name the workspaces' columns and segments)."""
    from prometheus_client import CONTENT_TYPE_LATEST

    from gnomon.monitoring.exported import exposition

    return Response(exposition(monitors.store), media_type=CONTENT_TYPE_LATEST)


@router.get("/monitors", response_model=list[MonitorOut])
def list_monitors(caller: Reader, monitors: Monitors) -> Response:
    return wire(list[MonitorOut], [MonitorOut.of(m) for m in monitors.list(caller.scope)])


@router.post("/monitors", status_code=201, response_model=MonitorOut)
def create_monitor(
    body: CreateMonitor, request: Request, caller: Writer, monitors: Monitors
) -> Response:
    """A monitor of a deployment's records against its reference (the spec as
    ``MonitorSpec.to_dict`` writes it)."""
    created = monitors.create(caller.scope, body.name, MonitorSpec.from_dict(body.spec))
    audit(
        request,
        caller,
        AuditAction.CREATE,
        "monitor",
        created.name,
        {"deployment": created.spec.deployment},
    )
    return wire(MonitorOut, MonitorOut.of(created), 201)


@router.get("/monitors/{name}", response_model=MonitorOut)
def get_monitor(name: Text, caller: Reader, monitors: Monitors) -> Response:
    return wire(MonitorOut, MonitorOut.of(monitors.get(caller.scope, name)))


@router.delete("/monitors/{name}", status_code=204)
def delete_monitor(name: Text, request: Request, caller: Writer, monitors: Monitors) -> Response:
    monitors.delete(caller.scope, name)
    audit(request, caller, AuditAction.DELETE, "monitor", name)
    return Response(status_code=204)


@router.post("/monitors/{name}/run", response_model=MonitorRunOut)
def run_monitor(
    name: Text, caller: Writer, monitors: Monitors, body: RunMonitor | None = None
) -> Response:
    """Evaluate every window that closed since the last run."""
    until = None if body is None else body.until_ms
    return wire(MonitorRunOut, MonitorRunOut.of(monitors.run(caller.scope, name, until_ms=until)))


@router.get("/monitors/{name}/results", response_model=list[WindowOut])
def results(
    name: Text,
    caller: Reader,
    monitors: Monitors,
    since_ms: QueryMillis | None = None,
    limit: Limit = 1000,
) -> Response:
    """The newest ``limit`` windows, oldest first."""
    found = monitors.results(caller.scope, name, since_ms, limit)
    return wire(list[WindowOut], [WindowOut.of(w) for w in found])


@router.get(
    "/monitors/{name}/report",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "The report page."}},
)
def report(name: Text, caller: Reader, monitors: Monitors, limit: Limit = 200) -> Response:
    """A self-contained HTML report: drift over time, histograms, quality, performance."""
    from gnomon.monitoring.report_html import report_html

    found = monitors.results(caller.scope, name, None, limit)
    page = report_html(monitors.get(caller.scope, name), found)
    # No script runs in it, and none may: names in it come from clients.
    headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return Response(page, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/monitors/{name}/rules", response_model=list[RuleOut])
def rules(name: Text, caller: Reader, monitors: Monitors) -> Response:
    found = monitors.rules(caller.scope, name)
    return wire(list[RuleOut], [{"rule": r.to_dict(), "state": s.to_dict()} for r, s in found])


@router.put("/monitors/{name}/rules/{rule}", response_model=RuleOut)
def set_rule(
    name: Text, rule: Text, body: RuleBody, request: Request, caller: Writer, monitors: Monitors
) -> Response:
    """Add or replace an alert rule (its state starts over)."""
    made = AlertRule.from_dict({**body.model_dump(), "name": rule, "monitor": name})
    monitors.set_rule(caller.scope, made)
    audit(request, caller, AuditAction.UPDATE, "monitor", name, {"rule": rule})
    state = dict(monitors.rules(caller.scope, name))[made]
    return wire(RuleOut, {"rule": made.to_dict(), "state": state.to_dict()})


@router.delete("/monitors/{name}/rules/{rule}", status_code=204)
def delete_rule(
    name: Text, rule: Text, request: Request, caller: Writer, monitors: Monitors
) -> Response:
    monitors.delete_rule(caller.scope, name, rule)
    audit(request, caller, AuditAction.UPDATE, "monitor", name, {"deleted_rule": rule})
    return Response(status_code=204)


@router.get("/monitors/{name}/events")
def events(name: Text, caller: Reader, monitors: Monitors, limit: Limit = 100) -> Response:
    """Alert events, newest first, with their deliveries."""
    return wire(list[dict], monitors.events(caller.scope, name, limit))


@router.get("/alert-channels")
def channels(caller: Admin, monitors: Monitors) -> Response:
    """The workspace's channels; header values are hidden (they often hold tokens)."""
    listed = []
    for channel in monitors.channels(caller.scope):
        spec = channel.to_dict()
        if "headers" in spec:
            spec["headers"] = {key: "***" for key in spec["headers"]}
        listed.append(spec)
    return wire(list[dict], listed)


@router.put("/alert-channels", status_code=200)
def set_channel(body: ChannelBody, request: Request, caller: Admin, monitors: Monitors) -> Response:
    """Add or replace a webhook, SMTP or log channel (command channels are the operator's)."""
    channel = monitors.set_channel(caller.scope, body.spec)
    audit(
        request, caller, AuditAction.UPDATE, "alert_channel", channel.name, {"kind": channel.kind}
    )
    return wire(dict, {"name": channel.name, "kind": channel.kind})


@router.delete("/alert-channels/{name}", status_code=204)
def delete_channel(name: Text, request: Request, caller: Admin, monitors: Monitors) -> Response:
    monitors.delete_channel(caller.scope, name)
    audit(request, caller, AuditAction.DELETE, "alert_channel", name)
    return Response(status_code=204)


@router.post("/alert-silences", status_code=201, response_model=SilenceCreated)
def silence(body: SilenceBody, request: Request, caller: Writer, monitors: Monitors) -> Response:
    starts = now_ms() if body.starts_ms is None else body.starts_ms
    made = Silence(
        monitor=body.monitor,
        rule=body.rule,
        starts_ms=starts,
        ends_ms=body.ends_ms,
        comment=body.comment,
        created_by=caller.scope.principal,
    )
    silence_id = monitors.silence(caller.scope, made)
    audit(
        request,
        caller,
        AuditAction.CREATE,
        "alert_silence",
        silence_id,
        {"monitor": body.monitor, "rule": body.rule},
    )
    return wire(SilenceCreated, {"id": silence_id}, 201)


@router.get("/alert-silences")
def silences(caller: Reader, monitors: Monitors) -> Response:
    """The silences active now."""
    return wire(list[dict], monitors.silences(caller.scope))


@router.delete("/alert-silences/{silence_id}", status_code=204)
def delete_silence(
    silence_id: Text, request: Request, caller: Writer, monitors: Monitors
) -> Response:
    monitors.delete_silence(caller.scope, silence_id)
    audit(request, caller, AuditAction.DELETE, "alert_silence", silence_id)
    return Response(status_code=204)
