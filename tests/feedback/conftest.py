"""The Teams tests' fakes and server (``teams``, ``pki``), reused for the feedback cards."""

from tests.teams.conftest import pki, teams  # noqa: F401 - pytest finds fixtures by name
