"""Errors a user can cause. The CLI prints these as one line, without a traceback."""


class GazeSDKError(Exception):
    """Base class for mistakes a user can make: bad input, bad config, unknown names."""


class ConfigError(GazeSDKError, ValueError):
    """A configuration value or key is invalid."""


class UnknownDeviceError(GazeSDKError, KeyError):
    """A device name is not in the device table."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown device"


class DataFormatError(GazeSDKError, ValueError):
    """A file or folder is not in the expected format."""


class CalibrationError(GazeSDKError, ValueError):
    """A calibration cannot be finished or a profile cannot be used (too few good samples,
    a profile made for another model or device, a corrupted or edited profile file)."""
