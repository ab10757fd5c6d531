"""GazeSim's configuration: the knobs a user sets from the CLI or a YAML/JSON file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gazesdk.errors import ConfigError
from gazesdk.geometry.devices import get_device
from gazesdk.settings import check_types, from_mapping, to_plain_dict

MAX_SESSIONS = 10_000_000
MAX_FRAMES = 1_000_000_000


@dataclass(frozen=True)
class SimConfig:
    """What to simulate. Defaults give a GazeCapture-like mix of people, devices and conditions.

    Counts: ``frames_per_subject`` random-dot frames, spread over ``sessions_per_subject``
    sessions; each session adds ``calibration_dots`` grid frames (0-9) and each subject
    ``stare_sequences`` sequences of ``stare_frames`` frames fixating one dot, with
    ``stare_blinks`` blinks in each (lids closing and opening over 100-400 ms, i.e. 3-12 frames
    at 30 fps; labelled per frame in the ``lid_closure`` field).

    ``eye_detail`` draws the eyes as a phone camera sees them: upper lashes, the lid crease and
    socket shading, a lower-lid line, iris striations and a limbal ring, a tinted sclera that
    darkens towards the corners, the caruncle (per-subject traits). Off, frames are exactly
    those of the plain renderer; on, labels and eye geometry (iris, lids, blinks) are the same.

    ``lens_fraction`` of the random-dot frames look into the camera instead (the target is the
    lens, within ``LENS_SPREAD_CM``): people do look at the lens, GazeCapture's dots never sit
    there, and a model that never saw it pulls a lens stare onto the screen. Those frames'
    ``dot_pts`` lie off the screen (above it in portrait). LENS_SPREAD_CM is in
    :mod:`gazesdk.sim.generator`.

    ``sessions_share_device``: all of a subject's sessions use the device and orientation of
    its first (the same phone held again, as a calibration's drift case needs); off, each
    session draws its own, as in GazeCapture. Subjects and splits are the same either way.
    """

    subjects: int = 40
    frames_per_subject: int = 50
    sessions_per_subject: int = 2
    calibration_dots: int = 0
    stare_sequences: int = 0
    stare_frames: int = 60
    stare_blinks: int = 0
    devices: tuple[str, ...] | None = None    # None: every device in the GazeCapture table
    tablet_fraction: float = 0.25
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    kappa_h_deg: tuple[float, float] = (5.0, 2.0)
    kappa_v_deg: tuple[float, float] = (1.5, 1.0)
    kappa_asym_deg: float = 0.8
    glasses_fraction: float = 0.25
    fixation_noise_deg: float = 0.4
    noise_scale: float = 1.0
    blur_scale: float = 1.0
    box_jitter_scale: float = 1.0
    eye_detail: bool = False
    lens_fraction: float = 0.0
    sessions_share_device: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.devices, str):     # one name, e.g. YAML "devices: iPhone 6s"
            object.__setattr__(self, "devices", (self.devices,))
        elif isinstance(self.devices, list):
            object.__setattr__(self, "devices", tuple(self.devices))
        if self.devices is not None and not (isinstance(self.devices, tuple)
                                             and all(isinstance(d, str) for d in self.devices)):
            raise ConfigError("devices must be device names")
        check_types(self)
        checks = [
            (self.seed >= 0, "seed must be >= 0"),
            (self.subjects >= 1, "subjects must be at least 1"),
            (self.frames_per_subject >= 0, "frames_per_subject must be >= 0"),
            (self.sessions_per_subject >= 1, "sessions_per_subject must be at least 1"),
            (0 <= self.calibration_dots <= 9, "calibration_dots must be 0-9 (a 3x3 grid)"),
            (self.stare_sequences >= 0, "stare_sequences must be >= 0"),
            (self.stare_frames >= 2, "stare_frames must be at least 2"),
            (self.stare_blinks >= 0, "stare_blinks must be >= 0"),
            (0.0 <= self.lens_fraction <= 0.5, "lens_fraction must lie in [0, 0.5]"),
            (self.stare_blinks == 0 or self.stare_frames >= 16 * self.stare_blinks,
             "stare_frames must be at least 16 per blink (stare_blinks)"),
            (0.0 <= self.tablet_fraction <= 1.0, "tablet_fraction must be in [0, 1]"),
            (0.0 <= self.glasses_fraction <= 1.0, "glasses_fraction must be in [0, 1]"),
            (self.kappa_h_deg[1] >= 0 and self.kappa_v_deg[1] >= 0,
             "the spreads (second numbers) of kappa_h_deg and kappa_v_deg must be >= 0"),
            (len(self.split_fractions) == 3 and min(self.split_fractions) >= 0
             and abs(sum(self.split_fractions) - 1) < 1e-6,
             "split_fractions must be three non-negative numbers summing to 1"),
            (self.fixation_noise_deg >= 0 and self.noise_scale >= 0 and self.blur_scale >= 0
             and self.box_jitter_scale >= 0 and self.kappa_asym_deg >= 0,
             "noise, blur, jitter and spread settings must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        # far past any dataset (GazeCapture: 1,474 people, 2.5 M frames), and inside what numpy
        # indexes: a mistyped count fails here, not as an OverflowError or MemoryError later
        if self.subjects * self.sessions_per_subject > MAX_SESSIONS:
            raise ConfigError(f"subjects x sessions_per_subject must be at most {MAX_SESSIONS:,}")
        if self.frames_total > MAX_FRAMES:
            raise ConfigError(f"a GazeSim dataset has at most {MAX_FRAMES:,} frames; this one "
                              f"would have {self.frames_total:,}")
        if self.frames_per_subject + self.stare_sequences + self.calibration_dots == 0:
            raise ConfigError("nothing to simulate: no frames, stare sequences or calibration dots")
        if self.devices is not None:
            if not self.devices:
                raise ConfigError("devices, when given, must name at least one device")
            for name in self.devices:
                get_device(name)

    @property
    def frames_total(self) -> int:
        per_subject = (self.frames_per_subject
                       + self.sessions_per_subject * self.calibration_dots
                       + self.stare_sequences * self.stare_frames)
        return self.subjects * per_subject

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> SimConfig:
        """Build from a mapping (a parsed YAML/JSON file); unknown keys are errors; a single
        device name may be given as a string."""
        return from_mapping(cls, values, what="GazeSim")

    def to_dict(self) -> dict[str, object]:
        return to_plain_dict(self)
