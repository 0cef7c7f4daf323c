"""Registry jobs: thin wrappers that load by id and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task
def train_model(*, model_id: str) -> None:
    """Train one model (state, progress and error are kept on the model row)."""
    from apps.models_registry.services.training import model_train_run

    model_train_run(model_id=model_id)
