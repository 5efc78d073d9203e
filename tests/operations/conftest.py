from tests.workflows.harness import fake_twilio, harness, sqlite_db  # noqa: F401
