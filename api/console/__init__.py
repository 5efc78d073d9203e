"""The web console for collectors, supervisors, risk and legal: see `api.console.routes`."""
