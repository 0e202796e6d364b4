"""Operations: health and readiness probes, Prometheus metrics, structured logs (delivery, like the routes)."""
