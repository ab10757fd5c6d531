"""Evaluation: gaze error and stare stability (MSD) metrics, and figures."""
