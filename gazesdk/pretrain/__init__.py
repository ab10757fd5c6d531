"""Self- and semi-supervised pre-training: gaze-safe augmentations, puzzle/rotation labels
(HMTL), and the pre-training methods built on :mod:`gazesdk.losses`."""
