"""When each content object was stored or last reused, so that `gnomon data gc` leaves alone
what an add in progress may be about to name.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dataset_objects", sa.Column("stored_time", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_objects") as batch:
        batch.drop_column("stored_time")
