"""``gnomon db upgrade`` and ``gnomon version``: commands about the installation itself."""

from __future__ import annotations

import typer

from gnomon.cli.output import display_uri, say, state_of

db_app = typer.Typer(help="Maintain the metadata store.")


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Migrate the metadata store (GNOMON_URI, or the SQLite file under GNOMON_HOME)."""
    # Imported here: SQLAlchemy and Alembic are the slow part of starting the CLI.
    from gnomon.store.database import Database
    from gnomon.store.migrate import current_revision
    from gnomon.store.migrate import upgrade as upgrade_schema

    uri = state_of(ctx).settings.store_uri
    db = Database(uri)
    try:
        with db.read() as conn:
            before = current_revision(conn)
        after = upgrade_schema(db)
    finally:
        db.dispose()
    say(f"{display_uri(uri)}: revision {before or 'none'} -> {after or 'none'}")


def version() -> None:
    """Print the gnomon version."""
    from gnomon._version import __version__

    say(f"gnomon {__version__}")
