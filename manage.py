#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackpro.settings.local")
    # Commands (migrate, billing_sync) may run long statements; web requests keep the 3 s default.
    os.environ.setdefault("DB_READ_TIMEOUT", "600")
    os.environ.setdefault("DB_WRITE_TIMEOUT", "600")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
