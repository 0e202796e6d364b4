"""The `telecollect` command (and `python -m telecollect`): the Flask CLI of this app.

`telecollect db upgrade`, `telecollect demo seed`, `telecollect run` work from any directory,
without FLASK_APP; in a checkout `flask …` (which finds wsgi.py) does the same.
"""

from flask.cli import FlaskGroup

from telecollect import create_app

cli = FlaskGroup(
    name="telecollect", create_app=create_app, help="Telecollect: work queues and reminders for JKN-KIS arrears."
)


def main() -> None:
    cli.main(prog_name="telecollect")


if __name__ == "__main__":
    main()
