from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from apps.billing.services.limits import billing_limit_checker, count_active_users
        from apps.core.limits import USERS, register_limit_checker, register_usage_counter

        # Layers below billing (accounts) ask through apps.core.limits; billing answers.
        register_limit_checker(billing_limit_checker)
        register_usage_counter(USERS, count_active_users)
