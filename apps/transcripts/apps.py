from django.apps import AppConfig


class TranscriptsConfig(AppConfig):
    name = "apps.transcripts"
    label = "transcripts"

    def ready(self) -> None:
        from apps.core.records import register_record_model
        from apps.transcripts.models import Transcript

        register_record_model("transcript", Transcript)
