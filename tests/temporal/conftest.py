from tests.workflows.harness import fake_twilio, sqlite_db  # noqa: F401
