from tests.workflows.harness import departments, fake_twilio, harness, sqlite_db  # noqa: F401
