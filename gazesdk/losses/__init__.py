"""Training losses, one file per concept."""
