"""`/healthz`, `/readyz` and `/metrics`: for load balancers, orchestrators and Prometheus, not for people.

None of them needs a session or names a person. `/healthz` and `/readyz` answer anyone (a load balancer
does not sign in); `/metrics` answers only a bearer of `METRICS_TOKEN` (404 while it is unset: the figures
say how busy each queue and officer's branch is, which is nobody else's business).
"""

import hmac
import os

from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from telecollect.ops.collectors import DatabaseCollector
from telecollect.ops.readiness import readiness

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
def healthz():
    """The process is up and answering; the database is not asked (a restart would not mend it)."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Ready for traffic: the database answers and its schema is at the migrations' head; 503 with the
    reason otherwise (`database_unreachable`, `migrations_behind`), so the load balancer sends requests
    elsewhere while a node starts, loses its database, or waits for `flask db upgrade`."""
    problem = readiness()
    if problem is None:
        return jsonify(status="ready")
    return jsonify(status="unavailable", **problem), 503


@bp.route("/metrics")
def metrics():
    """Prometheus's text format: this process's (or, with PROMETHEUS_MULTIPROC_DIR, every worker's) counters
    and histograms, then the figures read from the database at this scrape."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("metrics need the bearer token METRICS_TOKEN\n", 401, {"WWW-Authenticate": "Bearer"})
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    return Response(generate_latest(registry) + generate_latest(database), mimetype=CONTENT_TYPE_LATEST)
