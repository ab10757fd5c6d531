"""Datasets: the array form, and loaders of real on-disk formats (GazeCapture)."""
