"""Every table of the product's schema, in one metadata: what Alembic compares and the tests empty.

A table is defined beside the code that uses it (``storage/models.py`` for most; ``storage/events.py``,
``storage/nudges.py``, ``storage/guidance.py`` and ``storage/answer_log.py`` for their own); importing this module
imports each of them.
"""

from __future__ import annotations

import sqlalchemy as sa

from storage import answer_log, events, guidance, models, nudges, work_queue  # noqa: F401 - importing them adds their tables to the metadata
from storage.base import StorageModel

__all__ = ["metadata"]

metadata: sa.MetaData = StorageModel.metadata
