"""The plan's model limit, asked of billing through the core hook."""

from __future__ import annotations

from apps.core.testing import assert_envelope_error, assert_ok
from apps.models_registry.models import AIModel

SAVE = "/api/v1/toolbox/tools/model/save"


def test_creating_models_beyond_the_plan_is_refused(tenant):
    for i in range(3):  # the NONE plan allows three models
        assert_ok(tenant.admin.client.post(SAVE, {"name": f"m{i}", "algorithm": "natural-bayes"}, format="json"))
    body = assert_envelope_error(
        tenant.admin.client.post(SAVE, {"name": "m3", "algorithm": "natural-bayes"}, format="json"), 403, "at most 3"
    )
    assert body["plan"] == "NONE"
    assert AIModel.objects.for_company(tenant.company).count() == 3
    existing = AIModel.objects.for_company(tenant.company).first()
    update = {"modelid": str(existing.pk), "name": "renamed", "algorithm": "natural-bayes"}
    assert_ok(tenant.admin.client.post(SAVE, update, format="json"))  # updates are not creations
    tenant.company.plan = "STANDARD_MONTHLY"
    tenant.company.save(update_fields=["plan"])
    assert_ok(tenant.admin.client.post(SAVE, {"name": "m3", "algorithm": "natural-bayes"}, format="json"))
