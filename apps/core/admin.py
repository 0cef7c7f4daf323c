"""Company-scoped admin: staff who are Company Admins see and edit only their company's rows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import ForeignKey, QuerySet
from django.http import HttpRequest


def admin_company(request: HttpRequest) -> Any:
    """The company a non-superuser admin acts for, or None when they may not use the admin."""
    user = request.user
    if not user.is_active or not user.is_staff:
        return None
    if not getattr(user, "is_company_admin", False):
        return None
    return getattr(user, "company", None)


class CompanyScopedAdmin(admin.ModelAdmin):
    """Superusers see every company; a staff Company Admin sees only rows of their own company."""

    company_field = "company"

    def _is_global(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def _may_use(self, request: HttpRequest) -> bool:
        return self._is_global(request) or admin_company(request) is not None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if self._is_global(request):
            return queryset
        return self.scope(queryset, admin_company(request))

    def scope(self, queryset: QuerySet, company: Any) -> QuerySet:
        return queryset.for_company(company)  # type: ignore[attr-defined]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_use(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_use(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_use(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_use(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_use(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not self._is_global(request) and self.company_field and self.company_field not in readonly:
            readonly += (self.company_field,)
        return readonly

    def formfield_for_foreignkey(self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any) -> Any:
        # Choices in a company admin's forms come from their own company only.
        related = db_field.related_model
        if not self._is_global(request):
            company = admin_company(request)
            manager = related._default_manager  # type: ignore[union-attr]
            if hasattr(manager, "for_company"):
                kwargs["queryset"] = manager.for_company(company)
            elif related is type(company):
                kwargs["queryset"] = manager.filter(pk=getattr(company, "pk", None))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not self._is_global(request) and self.company_field:
            setattr(obj, self.company_field, admin_company(request))
        super().save_model(request, obj, form, change)
