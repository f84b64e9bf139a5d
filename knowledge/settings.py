"""The settings the knowledge base reads, as one small typed object.

The application's own settings (environment variables, ``.env``) are read in
``bot/``, which builds this object (``Settings.for_knowledge()``): nothing here
depends on how the application is configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from knowledge.sources.settings import SourceSettings


@dataclass(frozen=True)
class KnowledgeSettings:
    knowledge_dir: Path  # this process's own files: the in-memory vectors' saved copy
    database_url: str  # the database every process shares: sources, passages and the index version
    chroma_dir: Path  # Chroma on disk, when no Chroma server is set
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_collection: str = "guidance"
    embedding_model_dir: Path | None = None
    starter_pack: Literal["auto", "always", "off"] = "auto"
    max_file_mb: float = 20.0
    max_read_seconds: float = 30.0  # reading one file; a file that takes longer is left out
    max_question_chars: int = 1000
    llm_model: str | None = None
    llm_timeout_seconds: float = 20.0
    synonyms_file: Path | None = None  # the council's own abbreviations; the built-in list otherwise
    sources: SourceSettings = field(default_factory=SourceSettings)  # SharePoint and web pages
