"""The shipped prompt templates, given to every existing company (later ones get them on first use)."""

from django.db import migrations
from django.db.models import Max

# A frozen copy of apps.chat.prompts.SHIPPED as it was when this migration was written.
SHIPPED = [
    {
        "key": "summarize",
        "title": "Text Summarizer",
        "content": "Summarize the following text in a few sentences:\n\n{text}",
        "scenario": "summarization",
        "description": "Generates a concise summary of a text.",
    },
    {
        "key": "translate",
        "title": "Translator",
        "content": "Translate the following text into {language}. Keep names and numbers as they are.\n\n{text}",
        "scenario": "translation",
        "description": "Translates a text into another language.",
    },
    {
        "key": "reply-email",
        "title": "Email Reply",
        "content": "Write a polite, {tone} reply to this email:\n\n{email}",
        "scenario": "writing",
        "description": "Drafts a reply to an email in the chosen tone.",
    },
    {
        "key": "explain-code",
        "title": "Code Explainer",
        "content": "Explain what this {language} code does, step by step:\n\n{code}",
        "scenario": "coding",
        "description": "Explains a piece of code.",
    },
]


def add_templates(apps, schema_editor):
    Company = apps.get_model("accounts", "Company")
    Prompt = apps.get_model("chat", "Prompt")
    for company in Company.objects.all():
        prompts = Prompt.objects.filter(company=company)
        have = set(prompts.filter(is_template=True).values_list("metadata__template", flat=True))
        number = prompts.aggregate(top=Max("number"))["top"] or 0
        for template in SHIPPED:
            if template["key"] in have:
                continue
            number += 1
            Prompt.objects.create(
                company=company,
                number=number,
                title=template["title"],
                content=template["content"],
                scenario=template["scenario"],
                description=template["description"],
                metadata={"template": template["key"]},
                is_template=True,
            )


def remove_templates(apps, schema_editor):
    Prompt = apps.get_model("chat", "Prompt")
    keys = [template["key"] for template in SHIPPED]
    Prompt.objects.filter(is_template=True, metadata__template__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0002_end_users_attachments"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_templates, remove_templates)]
