"""OpenAPI description of the gateway's authentication (a Bearer JWT, the key pair, or the cookie)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class GatewayScheme(OpenApiAuthenticationExtension):
    target_class = "apps.chat.api.auth.GatewayAuthentication"
    name = "TokenCookie"

    def get_security_requirement(self, auto_schema):  # type: ignore[no-untyped-def]
        return [{"BearerAuth": []}, {"ApiKey": [], "EncKey": []}, {"TokenCookie": []}]

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "token",
            "description": "A browser session's JWT; writes then need X-CSRF-Token from /api/v1/configs/csrf-token.",
        }


class TenantApiKeyScheme(OpenApiAuthenticationExtension):
    """The tenant chat API: the company's `X-API-Key` alone (the same scheme as the key pair's first half)."""

    target_class = "apps.accounts.authentication.ApiKeyOnlyAuthentication"
    name = "TenantApiKey"

    def get_security_requirement(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"TenantApiKey": []}

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The company's API key."}
