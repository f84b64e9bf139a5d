"""The test bot's identity, shared by the fixtures and the activity builders."""

APP_ID = "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f0a1b2c"
APP_PASSWORD = "test-client-secret-value"
TENANT_ID = "9a8b7c6d-1111-2222-3333-444455556666"
BOT_ID = f"28:{APP_ID}"
SCOPE = "https://api.botframework.com/.default"
