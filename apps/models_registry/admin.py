from apps.models_registry.providers.admin import *  # noqa: F403
