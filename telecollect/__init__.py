"""Telecollect: bringing JKN-KIS participants in arrears back to paying."""

from pathlib import Path
from typing import Any

import click
from flask import Flask, Response, has_request_context, session
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import event

from telecollect.errors import error_envelope
from telecollect.extensions import babel, csrf, db, login_manager, migrate
from telecollect.limits import register_body_limits
from telecollect.settings import check_secret_key, instance_dir, load_config, local_config_file, resource_dir


def create_app(overrides: dict | None = None) -> Flask:
    instance_path = instance_dir()
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
        instance_path=str(instance_path),
    )
    register_config(app, instance_path, overrides)
    register_operations(app)  # first: its request id and clock wrap every other hook
    register_body_limits(app)
    register_extensions(app)
    register_settings(app)
    register_sqlite_pragmas(app)
    register_i18n(app)
    register_template_helpers(app)
    register_input_guards(app)  # before the blueprints: their routes take its converter for <int:…>
    register_blueprints(app)
    register_cli(app)
    register_error_pages(app)
    register_transaction_boundary(app)
    register_identity_note(app)  # after the boundary: runs before its commit
    return app


def _serves_requests() -> bool:
    """Whether this app will answer web requests: under gunicorn or another WSGI server (no command line
    context) or `flask run`; not under any other `flask` command, which signs no session cookie.

    Flask loads the app inside the command that needs it: `flask run`'s context is the root's child named
    "run"; `flask db upgrade` loads it in "upgrade", and the app's own commands load it at the root while
    looking themselves up."""
    context = click.get_current_context(silent=True)
    if context is None:
        return True
    return context.info_name == "run" and context.parent is not None and context.parent.parent is None


def register_config(app: Flask, instance_path: Path, overrides: dict | None) -> None:
    """Defaults from the environment, then the local override file (if any), then `overrides`."""
    app.config.update(load_config(instance_path))
    config_file = local_config_file()
    if config_file is not None:
        app.config.from_pyfile(config_file)
    app.config.update(overrides or {})
    app.config["SECRET_KEY"] = check_secret_key(app.config, serving=_serves_requests())
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def register_operations(app: Flask) -> None:
    """Request ids, one log line per request (LOG_FORMAT), request latency for /metrics."""
    from telecollect.ops.logs import register_request_logging

    register_request_logging(app)


def register_identity_note(app: Flask) -> None:
    from telecollect.ops.logs import register_identity_note as note

    note(app)


def register_extensions(app: Flask) -> None:
    from telecollect.replica import register_reports_bind
    from telecollect.security import register_security

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_reports_bind(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")))
    login_manager.init_app(app)
    csrf.init_app(app)
    register_security(app)
    _import_models()
    from telecollect.auth.scoping import register_branch_scoping
    from telecollect.branches.stamping import register as stamp_branches

    stamp_branches()
    register_branch_scoping()


def register_settings(app: Flask) -> None:
    from telecollect import settings
    from telecollect.runtime import register_queue_settings

    settings.register(app)
    register_queue_settings(app)


def _import_models() -> None:
    # Every table must be known to the metadata before migrations compare it.
    import telecollect.audit.models
    import telecollect.auth.models
    import telecollect.branches.models
    import telecollect.contacts.models
    import telecollect.imports.models
    import telecollect.messaging.models
    import telecollect.participants.models
    import telecollect.payments.models
    import telecollect.policy.models
    import telecollect.programs.models
    import telecollect.queues.handouts
    import telecollect.queues.models
    import telecollect.regions.models
    import telecollect.reports.models
    import telecollect.selfservice.models
    import telecollect.telephony.models
    import telecollect.throttle  # noqa: F401


def register_sqlite_pragmas(app: Flask) -> None:
    """WAL lets readers work while an import writes; the busy timeout makes a
    second writer wait instead of failing at once."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    busy_ms = app.config["SQLITE_BUSY_TIMEOUT_MS"]
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def register_i18n(app: Flask) -> None:
    def select_locale() -> str:
        if not has_request_context():  # CLI and jobs speak the default language
            return app.config["BABEL_DEFAULT_LOCALE"]
        chosen: str = session.get("lang", "")
        return chosen if chosen in app.config["LANGUAGES"] else app.config["BABEL_DEFAULT_LOCALE"]

    babel.init_app(app, locale_selector=select_locale)


def register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from telecollect import formatting, phones
    from telecollect.auth.labels import ROLE_LABELS
    from telecollect.contacts.labels import channel_label, outcome_label
    from telecollect.regions.names import format_code

    def role_label(role: Any) -> Any:
        return ROLE_LABELS.get(getattr(role, "value", role), role)

    def full_numbers() -> bool:
        """Whether the signed-in user may see full phone numbers (the read-only roles see them masked)."""
        return bool(current_user and current_user.is_authenticated and sees_full_numbers(current_user))

    app.jinja_env.globals.update(full_numbers=full_numbers)

    def viewer_zone() -> str:
        if current_user and current_user.is_authenticated:
            return current_user.timezone
        return app.config["BRANCH_TIMEZONE"]

    from telecollect.auth.scoping import sees_full_numbers
    from telecollect.messaging.labels import event_text, kind_label, reply_label, status_label
    from telecollect.payments.labels import payment_channel_label
    from telecollect.policy.labels import WEEKDAY_LABELS, weekdays_label

    app.jinja_env.filters.update(
        rupiah=formatting.rupiah,
        mask_nik=formatting.mask_nik,
        mask_phone=phones.mask_phone,
        # A number as the signed-in reader may see it: in full, or masked for the read-only roles.
        shown_phone=lambda number: number if full_numbers() else phones.mask_phone(number),
        local_date=formatting.local_date,
        local_datetime=lambda value: formatting.local_datetime(value, viewer_zone()),
        region_code=lambda code: format_code(code) if code else "",
        outcome_label=outcome_label,
        channel_label=channel_label,
        role_label=role_label,
        reject_page=lambda args: {k: v for k, v in args.items() if k != "page"},
        sms_kind=kind_label,
        sms_status=status_label,
        sms_event=event_text,
        sms_reply=reply_label,
        payment_channel=payment_channel_label,
        weekdays=weekdays_label,
    )
    from telecollect.reasons import PLACE_LEVELS
    from telecollect.reports.labels import (
        GROUP_LABELS,
        INSTALLMENT_STATE_LABELS,
        METRIC_LABELS,
        PLAN_STATE_LABELS,
        QUEUE_LABELS,
        decimal,
        percent,
    )

    app.jinja_env.globals.update(
        get_locale=get_locale,
        viewer_zone=viewer_zone,
        metric_labels=METRIC_LABELS,
        place_levels=PLACE_LEVELS,
        group_labels=GROUP_LABELS,
        percent=percent,
        decimal=decimal,
        queue_labels=QUEUE_LABELS,
        plan_state_labels=PLAN_STATE_LABELS,
        installment_state_labels=INSTALLMENT_STATE_LABELS,
        reply_label=reply_label,
        weekday_labels=WEEKDAY_LABELS,
    )


def register_blueprints(app: Flask) -> None:
    from telecollect.admin.routes import bp as admin_bp
    from telecollect.api.converters import register_converters
    from telecollect.api.routes import bp as api_bp
    from telecollect.auth.routes import bp as auth_bp
    from telecollect.branches.routes import bp as branches_bp
    from telecollect.letters import bp as letters_bp
    from telecollect.messaging.routes import bp as messaging_bp
    from telecollect.messaging.routes import inbox_bp
    from telecollect.messaging.webhooks import bp as twilio_bp
    from telecollect.ops.routes import bp as ops_bp
    from telecollect.participants.routes import bp as participants_bp
    from telecollect.payments.routes import bp as payments_bp
    from telecollect.policy.routes import bp as policy_bp
    from telecollect.queues.routes import bp as queue_bp
    from telecollect.reports.routes import bp as reports_bp
    from telecollect.selfservice.webhooks import bp as line_bp
    from telecollect.telephony.routes import bp as telephony_bp
    from telecollect.telephony.web import bp as agents_bp
    from telecollect.telephony.webhooks import bp as twilio_voice_bp

    register_converters(app)  # before any rule is added: an id no column holds is 404, not a 500
    for blueprint in (
        auth_bp,
        admin_bp,
        branches_bp,
        participants_bp,
        payments_bp,
        policy_bp,
        queue_bp,
        messaging_bp,
        inbox_bp,
        twilio_bp,
        twilio_voice_bp,
        telephony_bp,
        line_bp,
        agents_bp,
        reports_bp,
        letters_bp,
        api_bp,
        ops_bp,
    ):
        app.register_blueprint(blueprint)


def register_cli(app: Flask) -> None:
    from telecollect.commands import register_commands

    register_commands(app)


def register_transaction_boundary(app: Flask) -> None:
    """One commit per request: what a request wrote is committed once, after its answer is made, when the
    answer is not an error; an error answer (4xx, 5xx) or an exception rolls it back. Views and services
    add and flush, never commit. The one view that must keep a write in an error answer (a failed sign-in
    is counted though the answer is 401) commits it itself and says so."""

    @app.after_request
    def commit_or_roll_back(response: Response) -> Response:
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response


def register_error_pages(app: Flask) -> None:
    """Every error answers as a page, or as the JSON envelope under /api/ (404, 405, 413 and 500 included).
    A number or date out of what Python or the database can hold (`OverflowError`, the driver's `DataError`)
    is the request's fault: 400 with a sentence, never a 500."""
    from sqlalchemy.exc import DataError, StatementError
    from werkzeug.exceptions import HTTPException

    from telecollect.reasons import describe

    short_names = {400: "bad request", 403: "forbidden", 404: "not found", 413: "file too large"}

    def http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        if status < 400:
            return exc  # a routing redirect
        if status >= 500:
            db.session.rollback()  # the page is drawn with a clean session
        return _error_answer(status, str(status), short_names.get(status, exc.name.lower()))

    def out_of_range(exc: Exception) -> ResponseReturnValue:
        # SQLAlchemy wraps an overflow met while binding a parameter (a date past year 9999 in UTC).
        if (
            isinstance(exc, StatementError)
            and not isinstance(exc, DataError)
            and not isinstance(exc.orig, OverflowError)
        ):
            raise exc
        db.session.rollback()
        message = describe("input_out_of_range", {})
        return _error_answer(400, "input_out_of_range", message, page_message=message)

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(StatementError, out_of_range)  # DataError (the driver's "out of range") too


def register_input_guards(app: Flask) -> None:
    """Input no view can use is refused before any view runs: an id in a path beyond 64 bits is not found
    (404, not an overflow in the database), and a NUL character in a query, form or JSON value is a 400
    (PostgreSQL cannot store it, and no one types it)."""
    from flask import request
    from werkzeug.routing import IntegerConverter

    from telecollect.reasons import describe

    class Int64Converter(IntegerConverter):
        def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("max", 2**63 - 1)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = Int64Converter

    def has_nul(value: Any) -> bool:
        if isinstance(value, str):
            return "\x00" in value
        if isinstance(value, dict):
            return any(has_nul(k) or has_nul(v) for k, v in value.items())
        if isinstance(value, list):
            return any(has_nul(v) for v in value)
        return False

    @app.before_request
    def refuse_nul_characters() -> ResponseReturnValue | None:
        values: list[Any] = [*request.args.keys(), *request.args.values()]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values += [*request.form.keys(), *request.form.values()]
        elif request.is_json:
            values.append(request.get_json(silent=True))
        if any(has_nul(value) for value in values):
            message = describe("nul_character", {})
            return _error_answer(400, "nul_character", message, page_message=message)
        return None


def _error_answer(status: int, code: str, message: str, *, page_message: str | None = None) -> ResponseReturnValue:
    """The JSON envelope under /api/, else the error page (with `page_message` when the reason helps)."""
    from flask import jsonify, render_template, request

    if request.path.startswith("/api/"):
        return jsonify(error_envelope(code, message)), status
    return render_template("error.html", status=status, message=page_message), status
