"""Countries, agencies and sites: the organisation every user and every report is grouped by."""
