"""The quiz engine: question types, attempts, server-side grading, review."""
