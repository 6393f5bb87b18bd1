"""Database configuration from a URL, and the choice of MySQL driver.

mysqlclient is used where its native library loads; PyMySQL stands in where it does not (AWS
Lambda, machines without the MySQL client headers). ``DB_DRIVER=pymysql`` forces the fallback.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import environ

logger = logging.getLogger(__name__)

MYSQL_ENGINES = {"django.db.backends.mysql"}
# Django's MySQL backend with a cheaper health check (core/db_backends/mysql/base.py).
MYSQL_ENGINE = "core.db_backends.mysql"


def select_mysql_driver(preference: str | None = None) -> str:
    """Make ``import MySQLdb`` work and return the driver in use ("mysqlclient" or "pymysql")."""
    preference = (preference or os.environ.get("DB_DRIVER", "auto")).lower()
    if preference not in {"auto", "mysqlclient", "pymysql"}:
        raise ValueError(f"DB_DRIVER must be auto, mysqlclient or pymysql, not {preference!r}")
    if preference != "pymysql":
        try:
            import MySQLdb  # noqa: F401

            if getattr(MySQLdb, "__name__", "") == "MySQLdb" and not _is_pymysql_shim():
                return "mysqlclient"
        except (ImportError, OSError) as exc:  # a native library that cannot load raises either
            if preference == "mysqlclient":
                raise
            logger.info("mysqlclient unavailable (%s); using PyMySQL", exc)
    import pymysql  # type: ignore[import-untyped]

    pymysql.install_as_MySQLdb()
    return "pymysql"


def _is_pymysql_shim() -> bool:
    import sys

    module = sys.modules.get("MySQLdb")
    return bool(module) and getattr(module, "__name__", "") == "pymysql"


def database_config(
    url: str,
    *,
    connect_timeout: int,
    read_timeout: int,
    write_timeout: int,
    conn_max_age: int,
    health_check_idle_seconds: float = 0,
) -> dict[str, Any]:
    """Turn DATABASE_URL into Django's DATABASES entry with our MySQL options."""
    config: dict[str, Any] = environ.Env.db_url_config(url)
    if config["ENGINE"] in MYSQL_ENGINES:
        driver = select_mysql_driver()
        config.setdefault("OPTIONS", {}).update(
            {
                "charset": "utf8mb4",
                "init_command": "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO'",
                "connect_timeout": connect_timeout,
                "read_timeout": read_timeout,
                "write_timeout": write_timeout,
                # The server's default (on, unless a parameter group says otherwise), as Django wants
                # it: the drivers' default (False) costs SET autocommit=0, then Django's =1.
                "autocommit": None,
            }
        )
        _tls_options(config["OPTIONS"], driver)
        config["CONN_MAX_AGE"] = conn_max_age
        config["CONN_HEALTH_CHECKS"] = True
        config["ENGINE"] = MYSQL_ENGINE
        config["HEALTH_CHECK_IDLE_SECONDS"] = health_check_idle_seconds
        config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
        config["DRIVER"] = driver  # informational; Django ignores unknown keys
    else:
        config["CONN_MAX_AGE"] = 0
    return config


def _tls_options(options: dict[str, Any], driver: str) -> None:
    """``?ssl_ca=<file>&ssl_verify_identity=true`` in DATABASE_URL, in the words of the driver in use:
    PyMySQL takes ``ssl_ca``/``ssl_verify_identity`` (and reads any non-empty string as true, so the
    flag is made a real bool here), mysqlclient takes ``ssl={"ca": ...}`` and an ``ssl_mode``."""
    ca = options.pop("ssl_ca", None)
    verify_identity = str(options.pop("ssl_verify_identity", "")).lower() == "true"
    if not ca:
        return
    if driver == "mysqlclient":
        options["ssl"] = {"ca": ca}
        options["ssl_mode"] = "VERIFY_IDENTITY" if verify_identity else "VERIFY_CA"
    else:
        options.update(ssl_ca=ca, ssl_verify_cert=True, ssl_verify_identity=verify_identity)


def tls_settings(config: dict[str, Any]) -> tuple[str | None, bool]:
    """(CA bundle path, whether the server's name is checked) of a DATABASES entry, whichever driver."""
    options = config.get("OPTIONS", {})
    ca = options.get("ssl_ca") or (options.get("ssl") or {}).get("ca")
    return ca, options.get("ssl_verify_identity") is True or options.get("ssl_mode") == "VERIFY_IDENTITY"
