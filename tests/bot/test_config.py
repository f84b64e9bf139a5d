"""Settings as an IT team writes them: a copied .env.example with blanks left in must not change behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings


def test_an_empty_embedding_model_dir_means_unset_not_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBEDDING_MODEL_DIR", "")
    assert Settings(_env_file=None).embedding_model_dir is None  # type: ignore[call-arg]
    (tmp_path / ".env").write_text("EMBEDDING_MODEL_DIR=\nCYCLE_FILE=  \n", encoding="utf-8")
    monkeypatch.delenv("EMBEDDING_MODEL_DIR")
    from_file = Settings()
    assert from_file.embedding_model_dir is None and from_file.cycle_file is None
    assert from_file.for_knowledge().embedding_model_dir is None


def test_the_example_environment_file_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every setting in .env.example is one the assistant reads, and the file as shipped loads."""
    example = Path(__file__).resolve().parents[2] / ".env.example"
    names = {
        line.split("=", 1)[0].strip().lstrip("# ").lower()
        for line in example.read_text(encoding="utf-8").splitlines()
        if "=" in line and line.lstrip("# ").split("=", 1)[0].strip().isupper()
    }
    unknown = names - set(Settings.model_fields)
    assert not unknown, f".env.example names settings the assistant does not read: {sorted(unknown)}"
    for name in ("database_url", "slack_bot_token", "teams_app_id", "embedding_model_dir", "log_format"):
        assert name in names
    settings = Settings(_env_file=example)  # type: ignore[call-arg]
    assert settings.embedding_model_dir is None and settings.database_url is None
