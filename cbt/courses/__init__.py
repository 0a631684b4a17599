"""Courses in the database: immutable versions imported from packages, their media, import and export."""
