"""Guidance from SharePoint libraries and web sites: each root's settings and sync state, each source's link.

- ``guidance_root.options``: what was asked for (site, library, folder; or sitemap, include patterns, page limit);
- ``guidance_root.state``: where the next refresh carries on from (a drive's delta link), never a secret;
- ``guidance_source.link``: the address an officer opens from a citation;
- ``guidance_source.marker``: the source's own change marker (a web page's ETag or Last-Modified, a
  SharePoint file's cTag), so a refresh asks only for what changed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guidance_root", schema=None) as batch_op:
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("state", sa.JSON(), nullable=True))
    with op.batch_alter_table("guidance_source", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("marker", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guidance_source", schema=None) as batch_op:
        batch_op.drop_column("marker")
        batch_op.drop_column("link")
    with op.batch_alter_table("guidance_root", schema=None) as batch_op:
        batch_op.drop_column("state")
        batch_op.drop_column("options")
