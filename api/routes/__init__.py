"""One module per group of routes, each with a `router` that `api.app.routers()` lists."""
