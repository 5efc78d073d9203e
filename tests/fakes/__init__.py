"""Local fakes of external services, entered through constructors (never by monkeypatching)."""
