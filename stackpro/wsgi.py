"""WSGI entry point (gunicorn on servers, Zappa on AWS Lambda)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackpro.settings.production")

application = get_wsgi_application()
