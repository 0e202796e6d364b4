"""Entry point for `flask` (found from the repository root) and gunicorn (`wsgi:app`)."""

from telecollect import create_app

app = create_app()
