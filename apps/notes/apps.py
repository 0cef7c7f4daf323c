from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "apps.notes"
    label = "notes"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete

        from apps.core.records import record_kinds, register_record_model
        from apps.notes.services import notes_delete_for_record

        register_record_model("user", get_user_model())
        # A record's notes go with it. Apps register their kinds in their own ready(), which runs
        # before this one (notes come after them in INSTALLED_APPS).
        for kind in record_kinds():
            if kind.model is not None:
                post_delete.connect(notes_delete_for_record, sender=kind.model, dispatch_uid=f"notes-{kind.name}")
