"""Local development: the embedded defaults of base.py, with DEBUG on."""

from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = env.bool("DEBUG", default=True)

# runserver answers each request in a new thread, and a persistent connection belongs to its
# thread: with a max age every request would leave one open until MySQL refuses more ("Too many
# connections"). Persistent connections are for servers with fixed threads (gunicorn, Lambda).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
