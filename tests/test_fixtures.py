"""Snapshot-style check of the fixture models: each ``# TSnnn`` comment marks a line where
tsscan must report that code, and tsscan must report nothing else."""

import re
from pathlib import Path

import pytest

from tsscan.files import read_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FILES = sorted(p for p in FIXTURES.rglob("*.py") if not p.name.endswith(".fixed.py"))
EXPECT_RE = re.compile(r"#\s*(TS\d{3}(?:[ ,]+TS\d{3})*)")


def expectations(text):
    out = set()
    for lineno, line in enumerate(text.splitlines(), 1):
        for m in EXPECT_RE.finditer(line):
            for code in re.findall(r"TS\d{3}", m.group(1)):
                out.add((lineno, code))
    return out


def test_there_are_fixtures():
    assert [p.name for p in FILES if p.parent == FIXTURES] == [
        "detection_postprocess.py",
        "legacy_tracker.py",
        "multitask_model.py",
        "seg_decoder.py",
        "span_encoder.py",
        "streaming_encoder.py",
        "yolo_head.py",
    ]
    assert len(FILES) == 7 + 7  # and the 7 originals of fixtures/fix


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings(path, engine):
    source = read_source(str(path))
    result = engine.check(str(path), source.text)
    assert not result.errors
    found = {(d.line, d.code) for d in result.diagnostics}
    assert found == expectations(source.text)
