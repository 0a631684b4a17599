"""Reporting: completion statistics, charts, per-course/site/trainee pages and streamed exports."""
