"""Watching the service run: Prometheus metrics, JSON logs with request ids, health checks."""
