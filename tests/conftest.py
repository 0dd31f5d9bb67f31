import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def rules():
    from tsscan.registry import load_rules

    return load_rules()


@pytest.fixture(scope="session")
def engine(rules):
    from tsscan.engine import Engine
    from tsscan.rule import OPT_IN_BANDS

    return Engine(rules, "2.13.0", select=("TS", *OPT_IN_BANDS))  # every rule, the opt-in bands too


IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
# tests whose "permission denied" branch cannot run as root (root reads a mode-000 file)
NOT_AS_ROOT = ("test_bad_input.py::test_unreadable_file", "test_bad_input.py::test_unreadable_directory")


def pytest_terminal_summary(terminalreporter):
    """Say what this run could not exercise, so that it is never mistaken for covered."""
    if IS_ROOT:
        ran = {r.nodeid for rs in terminalreporter.stats.values() for r in rs if getattr(r, "when", "") == "call"}
        hit = [t for t in NOT_AS_ROOT if any(n.endswith(t) for n in ran)]
        if hit:
            terminalreporter.write_line(
                f"running as root: the 'permission denied' paths of {', '.join(hit)} were not exercised "
                "(root reads mode-000 files; they checked what root sees instead). Run as a normal user to cover them."
            )
