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
