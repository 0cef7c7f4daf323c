"""The Celery application: settings from Django's CELERY_* names, tasks found in every app."""

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("symbient")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_db_connections(sender: Any = None, **kwargs: Any) -> None:
    """Around each task in a worker, drop database connections that broke or passed CONN_MAX_AGE.

    Django does this around each request; CELERY_DB_REUSE_MAX keeps Celery from closing every
    connection instead (a new connection per task costs more than many small tasks).
    """
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
