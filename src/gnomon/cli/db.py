"""``gnomon db upgrade`` and ``gnomon version``: commands about the installation itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from gnomon.cli.output import display_uri, say, state_of, warn

if TYPE_CHECKING:
    from gnomon.config import Settings
    from gnomon.store.database import Database

db_app = typer.Typer(help="Maintain the metadata store.")


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Migrate the metadata store (GNOMON_URI, or the SQLite file under GNOMON_HOME), then move
    prediction records and outcomes written under workspace names to their workspace ids."""
    # Imported here: SQLAlchemy and Alembic are the slow part of starting the CLI.
    from gnomon.store.database import Database
    from gnomon.store.migrate import current_revision
    from gnomon.store.migrate import upgrade as upgrade_schema

    settings = state_of(ctx).settings
    uri = settings.store_uri
    db = Database(uri)
    try:
        with db.read() as conn:
            before = current_revision(conn)
        after = upgrade_schema(db)
        say(f"{display_uri(uri)}: revision {before or 'none'} -> {after or 'none'}")
        _adopt_predictions(db, settings)
    finally:
        db.dispose()


def _adopt_predictions(db: Database, settings: Settings) -> None:
    from sqlalchemy import select

    from gnomon.auth.tables import workspaces
    from gnomon.predictions.legacy import adopt

    with db.read() as conn:
        named = [
            (row.id, row.name) for row in conn.execute(select(workspaces.c.id, workspaces.c.name))
        ]
    done = adopt(settings.artifact_root, named, settings.s3_endpoint_url)
    moved = len(done.moved) + len(done.duplicates)
    say(f"prediction records and outcomes: {moved} file(s) moved to the workspace-id layout")
    if done.kept:
        warn(
            f"{len(done.kept)} file(s) left under <artifacts>/<workspace name>/serving: a "
            f"different file already has the same name in the new place (first: {done.kept[0]})"
        )


def version() -> None:
    """Print the gnomon version."""
    from gnomon._version import __version__

    say(f"gnomon {__version__}")
