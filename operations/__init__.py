"""The application layer: the one gateway to the workflows (`gateway`, answering `answers`),
and what operations, the departments and engineers do through it. The API, the console and
the CLI call this and translate its answers; they hold no Temporal client of their own."""
