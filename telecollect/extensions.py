"""Flask extensions, created unbound; `create_app` binds them."""

from typing import Any

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session

from telecollect.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def register_reports_database(app: Flask) -> None:
    """REPORTS_DATABASE_URL, when set, becomes the `reports` bind (before the extensions start)."""
    url = app.config.get("REPORTS_DATABASE_URL")
    if url:
        app.config["SQLALCHEMY_BINDS"] = {**app.config.get("SQLALCHEMY_BINDS", {}), "reports": url}
    app.teardown_appcontext(_close_reports_session)


def reports_session() -> Any:
    """The session the report pages and commands read with: on the read replica when REPORTS_DATABASE_URL
    is set (one per app context, closed at its end; nothing is ever written through it), else the app's."""
    if not current_app.config.get("REPORTS_DATABASE_URL"):
        return db.session
    if "reports_session" not in g:
        g.reports_session = Session(bind=db.engines["reports"])
    return g.reports_session


def _close_reports_session(_error: BaseException | None = None) -> None:
    session = g.pop("reports_session", None)
    if session is not None:
        session.close()
