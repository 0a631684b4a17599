"""Pages that belong to no single feature: home, health check, language switcher."""
