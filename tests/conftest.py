"""Fixtures shared by the tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def restore_threads():
    """In-process training sets torch's thread count; put it back for the next test."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)
