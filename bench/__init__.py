"""Benchmarks (`make bench`)."""

import os
import secrets

# Outside debug and tests the app refuses to start without a secret key: the benchmarks' apps and the `flask`
# processes they start use a random one.
os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
