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

    return Engine(rules, "2.13.0")
