"""The roles a user may hold in their company."""

COMPANY_ADMIN = "Company Admin"
USER_MANAGER = "User Manager"
MODEL_MANAGER = "Model Manager"
ACTIVITY_MANAGER = "Activity Manager"
ACTOR_MANAGER = "Actor Manager"
AUTOMATION_MANAGER = "Automation Manager"
ACCOUNTING_MANAGER = "Accounting Manager"
USER = "User"

ALL_ROLES: tuple[str, ...] = (
    COMPANY_ADMIN,
    USER_MANAGER,
    MODEL_MANAGER,
    ACTIVITY_MANAGER,
    ACTOR_MANAGER,
    AUTOMATION_MANAGER,
    ACCOUNTING_MANAGER,
    USER,
)

# Plan codes a company can be on; the billing app owns their prices and limits.
PLAN_CODES: tuple[str, ...] = (
    "NONE",
    "STANDARD_MONTHLY",
    "STANDARD_YEARLY",
    "PREMIUM_MONTHLY",
    "PREMIUM_YEARLY",
    "ENTERPRISE_MONTHLY",
    "ENTERPRISE_YEARLY",
)
