"""The web UI: server-rendered pages over the same services, login, workspaces and roles as
the REST API, served by ``gnomon server`` at ``/`` and by ``gnomon ui`` on loopback.

Pages are Jinja2 templates; charts are drawn by uPlot (served from ``static/vendor``, no CDN),
graphs and parallel coordinates are SVG written on the server. The UI is an entry point like
the CLI: it may use any capability, and no capability imports it.
"""
