"""Every model module, imported once so the metadata (migrations, tests) sees all tables."""

from cbt.audit.models import AuditEvent
from cbt.auth.models import User, UserSession
from cbt.org.models import Agency, Country, Site

__all__ = ["AuditEvent", "Agency", "Country", "Site", "User", "UserSession"]
