"""Settings, read from the environment and an optional `.env` file.

Every setting has a safe default so that a fresh install runs with nothing
configured: data under ``./data``, a SQLite database and Chroma on disk.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.logging import LOG_FORMATS
from handlers.slack.settings import SlackSettings
from handlers.teams.settings import TeamsSettings
from knowledge.settings import KnowledgeSettings
from knowledge.sources.settings import SourceSettings
from workflows.settings import WorkflowSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False)

    # --- where things live -------------------------------------------------
    data_dir: Path = Field(default=Path("data"), description="Folder for the database, index and logs.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; defaults to a SQLite file in DATA_DIR.")

    # --- knowledge -----------------------------------------------------------
    chroma_host: str | None = Field(default=None, description="Use a Chroma server instead of Chroma on disk.")
    chroma_port: int = 8000
    chroma_collection: str = "guidance"
    embedding_model_dir: Path | None = Field(
        default=None,
        description="Folder holding the ONNX all-MiniLM-L6-v2 model in Chroma's layout (<dir>/onnx/model.onnx).",
    )
    starter_pack: Literal["auto", "always", "off"] = Field(
        default="auto",
        description=(
            "'auto': answer from the built-in starter guidance until the council indexes its own; "
            "'always': keep it alongside the council's; 'off': never use it."
        ),
    )
    max_file_mb: float = Field(default=20.0, description="Files larger than this are skipped when indexing.")
    index_poll_seconds: float = Field(
        default=30.0, ge=0, description="A server checks this often for a newer guidance index (0: never)."
    )
    index_refresh_minutes: int = Field(
        default=60,
        ge=0,
        description="The scheduler indexes the guidance again this often, once across replicas (0: never).",
    )
    max_read_seconds: float = Field(
        default=30.0, gt=0, description="Reading one file when indexing may take this long; a slower file is left out."
    )
    max_question_chars: int = 1000
    synonyms_file: Path | None = Field(
        default=None,
        description=(
            "TOML file of abbreviations and other words officers use (see knowledge/synonyms.toml); "
            "the built-in list otherwise."
        ),
    )
    llm_model: str | None = Field(
        default=None, description="Optional chat model for written answers, e.g. 'openai:gpt-4o-mini'."
    )
    llm_timeout_seconds: float = 20.0

    # --- SharePoint and web pages as guidance sources --------------------------
    graph_client_id: str | None = Field(
        default=None, description="App registration for Microsoft Graph (Sites.Selected); TEAMS_APP_ID otherwise."
    )
    graph_client_secret: SecretStr | None = Field(
        default=None, description="The app registration's client secret; TEAMS_APP_PASSWORD otherwise."
    )
    graph_tenant_id: str | None = Field(
        default=None, description="The council's Entra tenant id; TEAMS_TENANT_ID otherwise."
    )
    graph_authority_url: str | None = Field(
        default=None, description="Entra ID for Graph tokens; TEAMS_AUTHORITY_URL otherwise."
    )
    graph_api_url: str = "https://graph.microsoft.com/v1.0"
    graph_scope: str = "https://graph.microsoft.com/.default"
    sources_ca_bundle: Path | None = Field(
        default=None,
        description="Extra CA certificates (PEM) for SharePoint and web pages behind a TLS-inspecting proxy; "
        "TEAMS_CA_BUNDLE otherwise.",
    )
    web_user_agent: str = Field(
        default="CommissioningAssistant/1.0 (guidance indexer for council officers)",
        description="How the crawler names itself to web sites (and in robots.txt rules).",
    )
    web_delay_seconds: float = Field(
        default=1.0, ge=0, description="Pause between two requests to a web site (robots.txt Crawl-delay if longer)."
    )
    web_max_pages: int = Field(default=500, ge=1, description="Most pages read from one web site in a refresh.")

    # --- reviews and conversations ------------------------------------------
    cycle_file: Path | None = Field(
        default=None, description="TOML file naming the commissioning cycle's stages; built-in default otherwise."
    )
    feedback_question_sets: Path | None = Field(
        default=None,
        description=(
            "TOML file of stakeholder feedback question sets; the built-in workflows/question_sets.toml otherwise."
        ),
    )
    conversation_idle_minutes: int = Field(
        default=60 * 24, description="A half-finished conversation is forgotten after this long without an answer."
    )
    timezone: str = Field(default="Europe/London", description="The council's own timezone.")
    chat_user: str | None = Field(
        default=None,
        description="Email of the person using `commissioning-bot chat` when --as is not given (else the OS user).",
    )

    # --- nudges (reminders to stage owners, escalations, weekly digests) -------
    nudge_days_before: Annotated[list[int], NoDecode] = Field(
        default=[5, 1],
        description="Comma-separated working days before a stage is due to remind its owner, e.g. '5,1'.",
    )
    nudge_overdue_every_working_days: int = Field(
        default=3, ge=1, description="Once a stage is overdue, remind its owner again every this many working days."
    )
    escalate_after_working_days: int = Field(
        default=5, ge=1, description="Tell the lead commissioner when a stage is this many working days overdue."
    )
    working_hours: str = Field(
        default="09:00-17:30", description="Nobody is nudged outside these hours, in their own timezone."
    )
    bank_holiday_region: str = Field(
        default="ENG", description="UK bank holidays to skip: ENG (England), WLS, SCT, NIR, or NONE."
    )
    sweep_minutes: int = Field(default=5, ge=1, description="How often the scheduler looks for nudges to send.")
    nudge_max_attempts: int = Field(default=5, ge=1, le=5, description="Tries at sending one nudge before giving up.")

    # --- the answer log and guidance insights ----------------------------------
    answer_log_days: int = Field(
        default=365, ge=1, description="Guidance answers and their ratings are kept this many days, then purged daily."
    )
    guidance_owners: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Comma-separated emails or Slack / Teams user ids of the people who see the guidance insights.",
    )

    # --- logging -------------------------------------------------------------
    log_level: str = "INFO"
    log_format: str = Field(
        default="auto",
        description="'json' for one JSON object per line, 'text' for people, 'auto' for JSON unless on a terminal.",
    )

    # --- chat platforms (used by the Slack and Teams adapters) ---------------
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_command: str = Field(
        default="/commissioning", description="The slash command's name, as in the app manifest."
    )
    # The durable work queue (storage/work_queue.py): answers and messages owed after a platform's ack.
    work_threads: int = Field(default=4, ge=1, description="Threads that claim and do queued work in each process.")
    work_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long claimed work stays with its process; a dead process's work is taken over after this.",
    )
    shutdown_grace_seconds: float = Field(
        default=8.0,
        ge=0,
        description="On SIGTERM, how long work in hand may take to finish (inside Docker's 10 s); the rest is left "
        "in the queue for the next process.",
    )
    # Teams (Bot Framework). Every endpoint is a setting so government clouds and test fakes work.
    teams_app_id: str | None = Field(default=None, description="The bot's Microsoft App ID (Entra app registration).")
    teams_app_password: SecretStr | None = Field(default=None, description="The app registration's client secret.")
    teams_tenant_id: str | None = Field(default=None, description="The council's Entra tenant id (single-tenant bot).")
    teams_authority_url: str = "https://login.microsoftonline.com"
    teams_openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    teams_token_issuer: str = "https://api.botframework.com"
    teams_bot_scope: str = "https://api.botframework.com/.default"
    teams_allowed_service_url_hosts: Annotated[list[str], NoDecode] = Field(
        default=["smba.trafficmanager.net"],
        description="Comma-separated hosts the Connector may live on; '*.example.com' allows its sub-domains.",
    )
    teams_ca_bundle: Path | None = Field(
        default=None, description="Extra CA certificates (PEM) trusted for Teams HTTPS calls, e.g. a proxy's."
    )

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        value = value.lower()
        if value not in LOG_FORMATS:
            raise ValueError("LOG_FORMAT must be 'auto', 'json' or 'text'")
        return value

    @field_validator("teams_allowed_service_url_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip().lower() for host in value.split(",") if host.strip()]
        return value

    @field_validator("guidance_owners", mode="before")
    @classmethod
    def _split_owners(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("nudge_days_before", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("embedding_model_dir", "cycle_file", "feedback_question_sets", "synonyms_file", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: object) -> object:
        # "EMBEDDING_MODEL_DIR=" in a .env file means "not set", not "the current folder".
        return None if isinstance(value, str) and not value.strip() else value

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'commissioning.db'}"

    @property
    def chroma_dir(self) -> Path:
        return self.resolved_data_dir / "chroma"

    @property
    def knowledge_dir(self) -> Path:
        return self.resolved_data_dir / "knowledge"

    # --- what each package is given (nothing below bot/ reads these settings itself) ---------

    def for_workflows(self) -> WorkflowSettings:
        return WorkflowSettings(
            timezone=self.timezone,
            cycle_file=self.cycle_file,
            feedback_question_sets=self.feedback_question_sets,
            conversation_idle_minutes=self.conversation_idle_minutes,
            working_hours=self.working_hours,
            bank_holiday_region=self.bank_holiday_region,
            nudge_days_before=tuple(self.nudge_days_before),
            nudge_overdue_every_working_days=self.nudge_overdue_every_working_days,
            escalate_after_working_days=self.escalate_after_working_days,
            nudge_max_attempts=self.nudge_max_attempts,
            guidance_owners=tuple(self.guidance_owners),
            answer_log_days=self.answer_log_days,
        )

    def for_slack(self) -> SlackSettings:
        return SlackSettings(
            bot_token=self.slack_bot_token,
            signing_secret=self.slack_signing_secret,
            app_token=self.slack_app_token,
            api_url=self.slack_api_url,
            command=self.slack_command,
        )

    def for_knowledge(self) -> KnowledgeSettings:
        return KnowledgeSettings(
            knowledge_dir=self.knowledge_dir,
            database_url=self.resolved_database_url,
            chroma_dir=self.chroma_dir,
            chroma_host=self.chroma_host,
            chroma_port=self.chroma_port,
            chroma_collection=self.chroma_collection,
            embedding_model_dir=self.embedding_model_dir,
            starter_pack=self.starter_pack,
            max_file_mb=self.max_file_mb,
            max_read_seconds=self.max_read_seconds,
            max_question_chars=self.max_question_chars,
            llm_model=self.llm_model,
            llm_timeout_seconds=self.llm_timeout_seconds,
            synonyms_file=self.synonyms_file,
            sources=self.for_sources(),
        )

    def for_sources(self) -> SourceSettings:
        """SharePoint through the Teams bot's own app registration unless GRAPH_* names another."""
        secret = self.graph_client_secret or self.teams_app_password
        return SourceSettings(
            graph_client_id=self.graph_client_id or self.teams_app_id,
            graph_client_secret=secret.get_secret_value() if secret is not None else None,
            graph_tenant_id=self.graph_tenant_id or self.teams_tenant_id,
            graph_authority_url=self.graph_authority_url or self.teams_authority_url,
            graph_api_url=self.graph_api_url,
            graph_scope=self.graph_scope,
            ca_bundle=self.sources_ca_bundle or self.teams_ca_bundle,
            user_agent=self.web_user_agent,
            web_delay_seconds=self.web_delay_seconds,
            web_max_pages=self.web_max_pages,
        )

    def for_teams(self) -> TeamsSettings:
        return TeamsSettings(
            app_id=self.teams_app_id,
            app_password=self.teams_app_password,
            tenant_id=self.teams_tenant_id,
            authority_url=self.teams_authority_url,
            openid_metadata_url=self.teams_openid_metadata_url,
            token_issuer=self.teams_token_issuer,
            bot_scope=self.teams_bot_scope,
            allowed_service_url_hosts=tuple(self.teams_allowed_service_url_hosts),
            ca_bundle=self.teams_ca_bundle,
        )


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (used by tests and the CLI)."""
    return Settings(**overrides)  # type: ignore[arg-type]
