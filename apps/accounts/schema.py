"""OpenAPI descriptions of our authentication classes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.BearerTokenAuthentication"
    name = "BearerAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The token from POST /api/v1/login (or signup, updatepassword).",
        }


class ApiKeyPairScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ApiKeyPairAuthentication"
    name = ["ApiKey", "EncKey"]

    def get_security_requirement(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"ApiKey": [], "EncKey": []}

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The company's API key."},
            {"type": "apiKey", "in": "header", "name": "X-Enc-Key", "description": "The company's Enc key."},
        ]
