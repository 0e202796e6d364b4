"""Telecollect: bringing JKN-KIS participants in arrears back to paying."""

from pathlib import Path
from typing import Any

from flask import Flask, Response, has_request_context, session
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import event

from telecollect.errors import error_envelope
from telecollect.extensions import babel, csrf, db, login_manager, migrate
from telecollect.limits import register_body_limits
from telecollect.settings import instance_dir, load_config, local_config_file, resource_dir


def create_app(overrides: dict | None = None) -> Flask:
    instance_path = instance_dir()
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
        instance_path=str(instance_path),
    )
    register_config(app, instance_path, overrides)
    register_body_limits(app)
    register_extensions(app)
    register_settings(app)
    register_sqlite_pragmas(app)
    register_i18n(app)
    register_template_helpers(app)
    register_blueprints(app)
    register_cli(app)
    register_error_pages(app)
    register_transaction_boundary(app)
    return app


def register_config(app: Flask, instance_path: Path, overrides: dict | None) -> None:
    """Defaults from the environment, then the local override file (if any), then `overrides`."""
    app.config.update(load_config(instance_path))
    config_file = local_config_file()
    if config_file is not None:
        app.config.from_pyfile(config_file)
    app.config.update(overrides or {})


def register_extensions(app: Flask) -> None:
    from telecollect.security import register_security

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")))
    login_manager.init_app(app)
    csrf.init_app(app)
    register_security(app)
    _import_models()


def register_settings(app: Flask) -> None:
    from telecollect import settings
    from telecollect.runtime import register_queue_settings

    settings.register(app)
    register_queue_settings(app)


def _import_models() -> None:
    # Every table must be known to the metadata before migrations compare it.
    import telecollect.audit.models
    import telecollect.auth.models
    import telecollect.contacts.models
    import telecollect.imports.models
    import telecollect.messaging.models
    import telecollect.participants.models
    import telecollect.payments.models
    import telecollect.policy.models
    import telecollect.programs.models
    import telecollect.queues.models
    import telecollect.regions.models
    import telecollect.reports.models
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

    def viewer_zone() -> str:
        if current_user and current_user.is_authenticated:
            return current_user.timezone
        return app.config["BRANCH_TIMEZONE"]

    app.jinja_env.filters.update(
        rupiah=formatting.rupiah,
        mask_nik=formatting.mask_nik,
        mask_phone=phones.mask_phone,
        local_date=formatting.local_date,
        local_datetime=lambda value: formatting.local_datetime(value, viewer_zone()),
        region_code=lambda code: format_code(code) if code else "",
        outcome_label=outcome_label,
        channel_label=channel_label,
        role_label=role_label,
        reject_page=lambda args: {k: v for k, v in args.items() if k != "page"},
    )
    from telecollect.reasons import PLACE_LEVELS
    from telecollect.reports.labels import GROUP_LABELS, METRIC_LABELS, percent

    app.jinja_env.globals.update(
        get_locale=get_locale,
        viewer_zone=viewer_zone,
        metric_labels=METRIC_LABELS,
        place_levels=PLACE_LEVELS,
        group_labels=GROUP_LABELS,
        percent=percent,
    )


def register_blueprints(app: Flask) -> None:
    from telecollect.admin.routes import bp as admin_bp
    from telecollect.api.routes import bp as api_bp
    from telecollect.auth.routes import bp as auth_bp
    from telecollect.messaging.routes import bp as messaging_bp
    from telecollect.messaging.webhooks import bp as twilio_bp
    from telecollect.participants.routes import bp as participants_bp
    from telecollect.payments.routes import bp as payments_bp
    from telecollect.policy.routes import bp as policy_bp
    from telecollect.queues.routes import bp as queue_bp
    from telecollect.reports.routes import bp as reports_bp

    for blueprint in (
        auth_bp,
        admin_bp,
        participants_bp,
        payments_bp,
        policy_bp,
        queue_bp,
        messaging_bp,
        twilio_bp,
        reports_bp,
        api_bp,
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
    from flask import jsonify, render_template, request

    def page_or_json(status: int, message: str) -> ResponseReturnValue:
        if request.path.startswith("/api/"):
            return jsonify(error_envelope(str(status), message)), status
        return render_template("error.html", status=status), status

    for status, message in ((403, "forbidden"), (404, "not found"), (400, "bad request"), (413, "file too large")):
        app.register_error_handler(status, lambda _e, s=status, m=message: page_or_json(s, m))
