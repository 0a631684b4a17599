"""Certificates of completion: one per course completion, a PDF for the trainee, a public verify page."""
