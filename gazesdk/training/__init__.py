"""Training: configuration, data feeding, the training loop and safe checkpoints."""
