"""``commissioning-bot teams ...``: the Teams app package."""

from __future__ import annotations

from pathlib import Path

import click

from bot.config import Settings
from handlers.teams.manifest import AppDetails, ManifestError, write_package


def register(cli: click.Group) -> None:
    @cli.group("teams")
    def teams() -> None:
        """Microsoft Teams: build the app package to upload."""

    @teams.command("package")
    @click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("commissioning-teams-app.zip"),
        show_default=True,
        help="Where to write the zip.",
    )
    @click.option("--bot-id", help="The bot's Microsoft App ID; TEAMS_APP_ID when not given.")
    @click.option("--app-id", help="The Teams app's own id, if it differs from the bot's.")
    @click.option(
        "--version",
        "version",
        default="1.0.0",
        show_default=True,
        help="The app's version; raise it each time you upload a changed package.",
    )
    @click.option(
        "--name", "short_name", default="Commissioning", show_default=True, help="Short name (30 characters)."
    )
    @click.option("--full-name", default="Commissioning Assistant", show_default=True)
    @click.option(
        "--developer",
        "developer_name",
        default="Your council",
        show_default=True,
        help="Shown as the app's publisher, e.g. 'Anytown Borough Council'.",
    )
    @click.option("--website-url", default="https://www.gov.uk/", show_default=True)
    @click.option("--privacy-url", default="https://www.gov.uk/help/privacy-notice", show_default=True)
    @click.option("--terms-url", default="https://www.gov.uk/help/terms-conditions", show_default=True)
    @click.pass_obj
    def package(
        settings: Settings,
        output: Path,
        bot_id: str | None,
        app_id: str | None,
        version: str,
        short_name: str,
        full_name: str,
        developer_name: str,
        website_url: str,
        privacy_url: str,
        terms_url: str,
    ) -> None:
        """Write manifest.json, color.png and outline.png into a zip ready to upload to Teams."""
        bot_id = bot_id or settings.teams_app_id
        if not bot_id:
            raise click.UsageError("Give --bot-id or set TEAMS_APP_ID to the bot's Microsoft App ID.")
        details = AppDetails(
            bot_id=bot_id,
            app_id=app_id,
            version=version,
            short_name=short_name,
            full_name=full_name,
            developer_name=developer_name,
            website_url=website_url,
            privacy_url=privacy_url,
            terms_url=terms_url,
        )
        try:
            path = write_package(output, details)
        except ManifestError as error:
            raise click.UsageError(str(error)) from error
        except OSError as error:
            raise click.ClickException(f"Couldn't write {output}: {error.strerror or error}.") from error
        click.echo(
            f"Wrote {path}. Upload it in Teams (Apps > Manage your apps > Upload an app), "
            "or give it to your Teams administrator to publish for the council."
        )
