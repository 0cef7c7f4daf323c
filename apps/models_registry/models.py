from apps.models_registry.providers.models import *  # noqa: F403
from apps.models_registry.providers.models import __all__ as _providers_all

__all__ = [*_providers_all]
