"""The realism gap's figures: MediaPipe's real-data models on GazeSim (exact iris truth) and on
the real photos (hand-marked irises)."""

from __future__ import annotations


def test_realism_gap_small(landmark_models, detector_model):
    from gazesdk.mobile_bench.realism import realism_gap

    got = realism_gap(subjects=1, frames=4)
    for key in ("gazesim", "gazesim_eye_detail"):
        g = got[key]
        assert g["frames"] == 4 and g["detection_rate"] == 1.0
        # the iris model finds GazeSim's irises within a few pixels / % of the eye
        assert 0 < g["iris_error"]["median_px"] < 4.0
        assert 0 < g["iris_error"]["median_pct_eye_width"] < 10.0
    real = got["real"]
    assert real["mesh_detection_rate"] == 1.0
    # the hand marks and the iris model agree to about a pixel on the real photos
    assert 0 < real["iris_error"]["median_px"] < 2.0
