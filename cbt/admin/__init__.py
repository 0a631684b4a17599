"""Administration: countries, agencies, sites, user accounts, bulk import and the audit log view."""
