"""StackPro backend: the Django project package.

The Celery app (``stackpro.celery``) is not imported here, as Celery's Django guide suggests, but on
first use: by ``core.tasks.task`` when a tasks module is imported (something queues work), by the
Lambda task and schedule handlers, by ``celery -A stackpro`` (which finds ``stackpro.celery.app``).
Importing it with Django cost ~60 ms of every plain Lambda cold start (docs/performance.md).
"""
