from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "apps.activities"
    label = "activities"

    def ready(self) -> None:
        from apps.activities.models import Activity
        from apps.core.records import register_record_model

        register_record_model("activity", Activity)
