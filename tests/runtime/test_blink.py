"""The blink detector's state machine worked by hand: baseline adaptation, onset and offset,
narrow eyes that are not a blink, IMAGE mode's fixed reference, and bad options."""

from __future__ import annotations

import pytest

from gazesdk.errors import ConfigError
from gazesdk.runtime.blink import BlinkDetector, BlinkOptions


def test_onset_offset_and_start_time():
    b = BlinkDetector(BlinkOptions(close_ratio=0.75, open_reference=0.4, adapt_rate=0.5))
    s = b.update(0.40, 0)
    assert not s.closed and not s.onset and not s.offset and s.start_ms is None
    s = b.update(0.20, 33)              # 0.20 < 0.75 x 0.40
    assert s.closed and s.onset and not s.offset and s.start_ms == 33
    s = b.update(0.10, 66)
    assert s.closed and not s.onset and s.start_ms == 33
    s = b.update(0.38, 99)              # 0.38 >= 0.30: open again
    assert not s.closed and s.offset and not s.onset and s.start_ms == 33
    assert b.baseline == pytest.approx(0.4 + 0.1 * (0.38 - 0.4))   # below: a fifth of 0.5
    assert b.update(0.39, 132).start_ms is None                    # over: no blink to date


def test_baseline_starts_at_the_first_frame_and_follows_open_eyes_only():
    b = BlinkDetector(BlinkOptions(adapt_rate=0.1, open_reference=0.4))
    assert b.baseline == pytest.approx(0.4)
    assert not b.update(0.30, 0).closed          # narrow eyes: the baseline becomes 0.30
    assert b.baseline == pytest.approx(0.30)
    b.update(0.40, 33)                           # above: the full rate
    assert b.baseline == pytest.approx(0.31)
    b.update(0.26, 66)                           # below but open (>= 0.2325): a fifth
    assert b.baseline == pytest.approx(0.31 + 0.02 * (0.26 - 0.31))
    before = b.baseline
    assert b.update(0.05, 99).closed             # closed: not learnt
    assert b.baseline == pytest.approx(before)
    c = BlinkDetector(BlinkOptions(open_reference=0.4))
    assert c.update(0.1, 0).closed               # a stream starting shut: the reference
    assert c.baseline == pytest.approx(0.4)


def test_narrow_eyes_are_not_a_blink_for_long():
    b = BlinkDetector(BlinkOptions(open_reference=0.4, max_blink_ms=300))
    b.update(0.40, -50)
    states = [b.update(0.25, t) for t in range(0, 600, 50)]   # always below 0.30
    assert states[0].closed and states[6].closed          # 300 ms: still a blink
    assert not states[7].closed and states[7].offset      # 350 ms: no, these eyes are narrow
    assert b.baseline == pytest.approx(0.25, abs=0.02)
    assert not any(s.closed for s in states[8:])


def test_reset_and_image_mode():
    b = BlinkDetector()
    b.update(0.3, 0)
    b.reset()
    assert b.baseline == pytest.approx(0.40) and not b.update(0.39, 10).closed
    assert b.baseline == pytest.approx(0.39)
    assert b.image(0.19).closed and not b.image(0.21).closed       # 0.5 x 0.40 = 0.20


@pytest.mark.parametrize("kwargs", [{"close_ratio": 0}, {"close_ratio": 1}, {"open_reference": 0},
                                    {"adapt_rate": 0}, {"adapt_rate": 1.5}, {"max_blink_ms": 0}])
def test_bad_options(kwargs):
    with pytest.raises(ConfigError):
        BlinkOptions(**kwargs)
