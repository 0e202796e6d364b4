"""Local overrides for a checkout (optional; the defaults live in telecollect/settings.py).

`create_app` reads the UPPERCASE names of this file after the defaults, which come from
environment variables (see the README), and before the overrides a caller passes. Another file
can be named with TELECOLLECT_CONFIG=/path/to/file.py (an installed package reads only that).
The package never imports this module.

Example:

    SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://telecollect@127.0.0.1:5432/telecollect"
    BRANCH_NAME = "BPJS Kesehatan Kantor Cabang Jakarta Utara"
"""
