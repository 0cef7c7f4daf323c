"""Billing services. Other apps ask about limits through `apps.billing.services.limits`."""

from apps.billing.services.limits import limit_check, usage_consume, usage_record

__all__ = ["limit_check", "usage_consume", "usage_record"]
