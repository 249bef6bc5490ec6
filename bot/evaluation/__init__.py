"""Measuring Rakel on real questions: the survey, its evaluation messages, scoring."""
