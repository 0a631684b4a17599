"""Cohorts (classes): a trainer's group of trainees, the courses assigned to them, their progress and
question statistics."""
