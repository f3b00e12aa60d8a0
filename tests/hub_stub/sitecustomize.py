"""Installs tests/fake_hub.FakeHub into a process started with ASRSER_FAKE_HUB=<root> and this
folder on PYTHONPATH (the workflow tests' Snakemake process: its fetch_model jobs run in it)."""

import os
import sys

if os.environ.get("ASRSER_FAKE_HUB"):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from fake_hub import FakeHub

    FakeHub(os.environ["ASRSER_FAKE_HUB"]).install()
