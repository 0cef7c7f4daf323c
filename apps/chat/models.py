"""Chats and their messages, shared by every chat dialect, and the usage of each completion."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import CompanyOwnedModel


class ChatState(models.TextChoices):
    ONLINE = "online", "Online"
    ARCHIVED = "archived", "Archived"


class EndUser(CompanyOwnedModel):
    """A tenant's own end-user, known by the tenant's id for them; kept apart from staff accounts."""

    external_id = models.CharField(max_length=200, help_text="The tenant's own id for this end-user.")
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("created_at",)
        verbose_name = "end-user"
        constraints = [models.UniqueConstraint(fields=["company", "external_id"], name="end_user_id_per_company")]

    def __str__(self) -> str:
        return self.external_id


class Chat(CompanyOwnedModel):
    """A conversation: a UUID id, a per-company number, an owner (a user, or a tenant's end-user ref)."""

    number = models.PositiveIntegerField(help_text="Per-company sequence number (the chat stream API's session_id).")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="chats"
    )
    user_ref = models.CharField(max_length=200, blank=True, help_text="A tenant's own id for its end-user.")
    end_user = models.ForeignKey(
        EndUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="chats", help_text="Its end-user."
    )
    # Actors and activities belong to apps of the same layer: kept as ids, read through their selectors.
    actor_id = models.UUIDField(null=True, blank=True, help_text="The actor whose prompt opens the chat.")
    activity_id = models.UUIDField(null=True, blank=True, help_text="The activity whose prompt opens the chat.")
    metadata = models.JSONField(default=dict, blank=True, help_text="The client's own data about the chat.")
    session_ref = models.CharField(max_length=200, blank=True, help_text="The client's session id.")
    model = models.CharField(max_length=200, blank=True, help_text="Model id, as provider.model-name.")
    title = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=20, choices=ChatState.choices, default=ChatState.ONLINE)
    options = models.JSONField(
        default=dict, blank=True, help_text="What the client sent along: params, features, tool servers, model item."
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-updated_at",)
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="chat_number_per_company")]
        indexes = [
            models.Index(fields=["company", "state", "-updated_at"]),
            models.Index(fields=["company", "user", "-updated_at"]),
            models.Index(fields=["company", "end_user", "-updated_at"]),
        ]

    def __str__(self) -> str:
        return self.title or f"Chat {self.number}"


class MessageRole(models.TextChoices):
    SYSTEM = "system", "System"
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"


class Message(CompanyOwnedModel):
    """One turn of a chat, with the tokens it took when a model produced it."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=20, choices=MessageRole.choices)
    content = models.TextField(blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("created_at",)
        indexes = [models.Index(fields=["chat", "created_at"])]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Where an upload is stored: under its company and chat, with a name of our choosing."""
    return f"chat-attachments/{instance.company_id}/{instance.chat_id}/{instance.id}{instance.extension}"


class Attachment(CompanyOwnedModel):
    """A file uploaded into a chat; its text (when it has any) is context for the next answers."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255, help_text="The name the client gave the file.")
    extension = models.CharField(max_length=10, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(null=True, blank=True)
    text = models.TextField(blank=True, help_text="The extracted text, used as context.")

    class Meta:
        ordering = ("created_at",)
        indexes = [models.Index(fields=["chat", "created_at"])]

    def __str__(self) -> str:
        return self.filename


class UsageOutcome(models.TextChoices):
    OK = "ok", "Completed"
    ERROR = "error", "Upstream error"
    TIMEOUT = "timeout", "Timed out"
    CANCELLED = "cancelled", "Cancelled by the client"


class CompletionUsage(CompanyOwnedModel):
    """One completion's cost: who, which model, tokens (the upstream's or counted here), time and outcome."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chat = models.ForeignKey(Chat, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    model = models.CharField(max_length=200)
    provider = models.CharField(max_length=50)
    source = models.CharField(max_length=40, default="gateway", help_text="Which surface asked: gateway, inference…")
    stream = models.BooleanField(default=False)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    tokens_counted_locally = models.BooleanField(default=False, help_text="The upstream gave no usage.")
    latency_ms = models.PositiveIntegerField(default=0)
    first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=UsageOutcome.choices, default=UsageOutcome.OK)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "completion usage"
        verbose_name_plural = "completion usage"
        indexes = [models.Index(fields=["company", "model", "created_at"])]

    def __str__(self) -> str:
        return f"{self.model} {self.total_tokens} tokens ({self.outcome})"


class Prompt(CompanyOwnedModel):
    """A reusable prompt template of a company (the chat stream API's prompts; listed by the gateway)."""

    number = models.PositiveIntegerField(help_text="Per-company sequence number (the chat stream API's prompt id).")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    content = models.TextField()
    scenario = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    is_template = models.BooleanField(default=False, help_text="A template offered to everyone in the company.")
    usage_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("number",)
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="prompt_number_per_company")]

    def __str__(self) -> str:
        return self.title
