from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "apps.automations"
    label = "automations"

    def ready(self) -> None:
        from apps.automations.engine.operators import register_builtins
        from apps.automations.models import Automation
        from apps.core.records import register_record_model

        register_builtins()
        register_record_model("automation", Automation)
