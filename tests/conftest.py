"""Shared fixtures: tiny corpora in the IEMOCAP and MUSAN on-disk formats (see fixtures.py)."""

from __future__ import annotations

import pytest
from fixtures import IemocapFixture, MusanFixture, make_iemocap_tree, make_musan_tree


@pytest.fixture
def iemocap_tree(tmp_path) -> IemocapFixture:
    """An IEMOCAP-format tree with every quirk and one of each bad case (ten speakers)."""
    return make_iemocap_tree(tmp_path / "IEMOCAP_full_release")


@pytest.fixture
def musan_tree(tmp_path) -> MusanFixture:
    """A MUSAN-format tree with a stereo, a 44.1 kHz, an empty and an unreadable file."""
    return make_musan_tree(tmp_path / "musan")
