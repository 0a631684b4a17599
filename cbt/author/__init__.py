"""Authoring and translating courses in the browser: drafts as package folders, validated by the loader."""
