"""A useful admin for every model of our apps that its owner has not registered yet.

Columns, search, filters and date hierarchy are derived from the fields; foreign keys are
selected in the list query and edited by raw id, so a changelist costs the same at any size.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db import models

READ_ONLY = {"accounts.authevent", "console.taskfailure"}
_TEXTY = (models.TextField, models.JSONField, models.BinaryField)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


def admin_class_for(model: type[models.Model]) -> type[admin.ModelAdmin]:
    fields = list(model._meta.concrete_fields)
    display = [
        f for f in fields if not isinstance(f, _TEXTY) and not (f.primary_key and f.name == "id" and len(fields) > 2)
    ]
    list_display = [f.name for f in display][:7] or ["__str__"]
    fks = [f.name for f in fields if f.many_to_one or f.one_to_one]
    search = [f.name for f in fields if isinstance(f, models.CharField) and not f.choices][:4]
    for f in fields:
        related = f.related_model if (f.many_to_one or f.one_to_one) else None
        if related is not None and not isinstance(related, str):
            if "email" in [rf.name for rf in related._meta.concrete_fields]:
                search.append(f"{f.name}__email")
    filters = [f.name for f in fields if isinstance(f, models.BooleanField) or f.choices][:5]
    dates = [f for f in fields if isinstance(f, models.DateTimeField)]
    created = next((f for f in dates if getattr(f, "auto_now_add", False) or f.name in ("created", "created_at")), None)
    attrs: dict[str, Any] = {
        "list_display": list_display,
        "list_select_related": [n for n in fks if n in list_display],
        "search_fields": search,
        "list_filter": filters,
        "raw_id_fields": fks,
        "show_full_result_count": False,
    }
    if created is not None:
        attrs["date_hierarchy"] = created.name
    bases: tuple = (admin.ModelAdmin,)
    if model._meta.label_lower in READ_ONLY:
        bases = (ReadOnlyAdminMixin, admin.ModelAdmin)
    return type(f"{model.__name__}FallbackAdmin", bases, attrs)


def register_unregistered(site: admin.AdminSite, app_labels: list[str]) -> list[str]:
    """Register a derived admin for each unregistered, managed model of ``app_labels``."""
    done = []
    for label in app_labels:
        for model in apps.get_app_config(label).get_models():
            if model._meta.managed and not model._meta.proxy and not site.is_registered(model):
                site.register(model, admin_class_for(model))
                done.append(model._meta.label)
    return done
