#!/usr/bin/env python
"""The mutation check: plant each of a named list of behavioural bugs and show the tests catch it.

    python scripts/mutants.py            # all mutants; exit 1 if any survives (or cannot be planted)
    python scripts/mutants.py --only NAME [--only NAME ...]
    python scripts/mutants.py --list     # the table, without running anything

Each mutant is a list of (file, exact old snippet, new snippet) edits and the tests that protect
the behaviour. The repository is copied to a temporary directory (the working tree is never
touched); there, first the selected tests must pass on the unmutated copy (the baseline), then for
each mutant: plant it, run its tests (``pytest -x``), restore the files. A mutant is *caught* when
its tests fail (pytest exit code 1); it *survives* when they pass. A snippet that is not found
exactly once is an error, never a silent pass: when the code is rebuilt, each mutant must be
re-expressed against the new code (that is how "behaviour unchanged" is proved).

The copy is imported in place of the installed tsscan (``PYTHONPATH`` names it), also by the
subprocesses the tests start (``python -m tsscan``, the console script, flake8).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".tsscan_cache"}


@dataclass(frozen=True)
class Mutant:
    name: str
    breaks: str  # the promise the mutant breaks
    edits: tuple[tuple[str, str, str], ...]  # (file, exact old snippet, new snippet)
    tests: tuple[str, ...]  # pytest arguments: files / node ids, and -k expressions


MUTANTS = [
    Mutant(
        "atomic-write-in-place",
        "writes are atomic (a temp file renamed over the original)",
        (
            (
                "tsscan/files.py",
                "        os.replace(tmp, path)\n",
                "        os.unlink(tmp)\n        Path(path).write_bytes(data)\n",
            ),
        ),
        ("tests/test_atomic_write.py",),
    ),
    Mutant(
        "per-file-ignores-ignored",
        "[tool.tsscan] per-file-ignores",
        (
            (
                "tsscan/config.py",
                "        for pattern, codes in self.per_file_ignores.items():\n",
                "        for pattern, codes in {}.items():\n",
            ),
        ),
        ("tests/test_cli_promises.py", "-k", "per-file-ignores"),
    ),
    Mutant(
        "ignore-beats-longer-select",
        "select/ignore: the longest matching prefix wins (as ruff)",
        (
            (
                "tsscan/selection.py",
                "    return best_sel >= 0 and best_sel > best_ign\n",
                "    return best_sel >= 0 and best_ign < 0\n",
            ),
        ),
        ("tests/test_cli_promises.py", "-k", "longer or extend-select"),
    ),
    Mutant(
        "unsafe-fix-labelled-safe",
        "each fix's declared safety (TS123: inference_mode -> no_grad is unsafe)",
        (
            (
                "tsscan/rules/TS123_context_manager.py",
                '                safety=UNSAFE,\n                description="use torch.no_grad() (UNSAFE',
                '                safety=SAFE,\n                description="use torch.no_grad() (UNSAFE',
            ),
        ),
        ("tests/test_rule_examples.py", "-k", "declares_the_safety and TS123"),
    ),
    Mutant(
        "noqa-code-silences-all",
        "`# noqa: CODE` silences that code (prefix) only",
        (
            (
                "tsscan/noqa.py",
                "    return any(code.startswith(c.upper()) for c in _SEP_RE.split(codes.strip()) if c)\n",
                "    return True\n",
            ),
        ),
        ("tests/test_cli_promises.py", "-k", "noqa"),
    ),
    Mutant(
        "rule-never-reports",
        "a rule reports what it documents (TS101 try/except)",
        (
            (
                "tsscan/rules/TS101_try_except.py",
                "    def visit_Try(self, node: cst.Try) -> None:\n        self.report(node)\n",
                "    def visit_Try(self, node: cst.Try) -> None:\n        pass\n",
            ),
        ),
        ("tests/test_rule_examples.py", "-k", "invalid_example_is_flagged and TS101"),
    ),
    Mutant(
        "fixer-skips-confirmation",
        "every fix is confirmed by the compiler before it is kept",
        (
            (
                "tsscan/fix/fixer.py",
                "        if not records or verifier is None:\n            break\n",
                "        if True:\n            break\n",
            ),
        ),
        ("tests/test_fix_verify.py", "-k", "every_fix_is_confirmed_by_the_compiler and TS401-0"),
    ),
    Mutant(
        "diff-writes",
        "--diff prints the change and writes nothing",
        (
            (
                "tsscan/runner/fixing.py",
                '                    if options.write and config_path != "-" and not write_atomic(source, new_text):\n',
                '                    if config_path != "-" and not write_atomic(source, new_text):\n',
            ),
        ),
        ("tests/test_fix_verify.py", "-k", "diff_prints_and_writes_nothing"),
    ),
    Mutant(
        "cache-ignores-config",
        "the cache is keyed on the configuration (select/ignore)",
        (
            (
                "tsscan/cache.py",
                "json.dumps([list(select), list(ignore), target_version, options or {}]",
                "json.dumps([target_version, options or {}]",
            ),
        ),
        ("tests/test_cache.py", "-k", "changed_rule_file_config or fingerprint_covers"),
    ),
    Mutant(
        "flake8-columns-shifted",
        "flake8 reports the same lines and columns as tsscan check",
        (("tsscan/flake8.py", "yield d.line, d.col - 1,", "yield d.line, d.col,"),),
        ("tests/test_flake8.py", "-k", "columns_are_tsscans or parity_on_odd"),
    ),
    Mutant(
        "ts606-state-uninitialised",
        "rules run on any function without an internal error (the TS606 crash)",
        (("tsscan/rules/TS606_float_to_str.py", "        self._in_error = 0\n", "        pass\n"),),
        ("tests/test_rule_state.py",),
    ),
    Mutant(
        "unsafe-fix-applied-by-fix",
        "--fix applies safe fixes only (--unsafe-fixes for the others)",
        (("tsscan/fix/edits.py", "        if pf.fix.safety not in safeties:\n", "        if False:\n"),),
        ("tests/test_rule_examples.py", "-k", "fix_produces_fixed_example and (TS119 or TS123)"),
    ),
    Mutant(
        "same-always-agrees",
        "'behaves the same' (verify.torch_worker.same) tells values apart",
        (("tsscan/verify/torch_worker.py", "    return type(a) is type(b) and a == b\n", "    return True\n"),),
        ("tests/test_rule_examples.py", "-k", "behaves_differently"),
    ),
    Mutant(
        "exclude-ignored",
        "exclude patterns (and the default ones) are not walked into",
        (
            (
                "tsscan/files.py",
                "def _excluded(rel_parts: Sequence[str], patterns: Sequence[str]) -> bool:\n",
                "def _excluded(rel_parts: Sequence[str], patterns: Sequence[str]) -> bool:\n    return False\n",
            ),
        ),
        ("tests/test_cli_promises.py", "-k", "exclude"),
    ),
    Mutant(
        "file-errors-exit-1",
        "a file that cannot be read or parsed is exit 2",
        (("tsscan/cli.py", "    if summary.errors:\n        return EXIT_ERROR\n", ""),),
        ("tests/test_cli_promises.py", "-k", "unparsable or missing-path"),
    ),
    Mutant(
        "invalid-example-anywhere",
        "an invalid rule example fails where its rule says",
        (
            (
                "tests/harness.py",
                "        lines = {int(n) for n in _LINE_RE.findall(message)}\n",
                "        lines = set()\n",
            ),
        ),
        ("tests/test_rule_examples.py", "-k", "planted"),
    ),
]


def copy_repo(dest: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.endswith(".egg-info")}

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)


def pytest(copy: Path, args: tuple[str, ...] | list[str], timeout: float) -> tuple[int, str, float]:
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1", TSSCAN_NO_PROGRESS="1")
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return -1, "timed out", time.monotonic() - start
    tail = (proc.stdout.strip().splitlines() or [""])[-1]
    return proc.returncode, tail, time.monotonic() - start


def plant(copy: Path, mutant: Mutant) -> dict[Path, str]:
    """Apply the edits; the original texts, to restore. Raises if a snippet is not found once."""
    saved: dict[Path, str] = {}
    for rel, old, new in mutant.edits:
        path = copy / rel
        text = saved.get(path) or path.read_text(encoding="utf-8")
        saved.setdefault(path, text)
        current = path.read_text(encoding="utf-8")
        if current.count(old) != 1:
            restore(saved)
            raise LookupError(f"{mutant.name}: snippet not found exactly once in {rel} ({current.count(old)}): {old!r}")
        path.write_text(current.replace(old, new), encoding="utf-8")
    return saved


def restore(saved: dict[Path, str]) -> None:
    for path, text in saved.items():
        path.write_text(text, encoding="utf-8")


def table(rows: list[tuple[Mutant, str, str]]) -> str:
    out = ["| mutant | the promise it breaks | tests run | result |", "|---|---|---|---|"]
    for m, result, detail in rows:
        tests = " ".join(m.tests).replace("|", "\\|")
        out.append(f"| `{m.name}` | {m.breaks} | `{tests}` | {result}{' (' + detail + ')' if detail else ''} |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[], help="run only this mutant (repeatable)")
    ap.add_argument("--list", action="store_true", help="print the table of mutants and exit")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per pytest run")
    args = ap.parse_args()
    names = {m.name for m in MUTANTS}
    unknown = [n for n in args.only if n not in names]
    if unknown:
        print(f"mutants: unknown mutant {', '.join(unknown)}; known: {', '.join(sorted(names))}", file=sys.stderr)
        return 2
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.list:
        print(table([(m, "-", "") for m in chosen]))
        return 0
    start = time.monotonic()
    rows: list[tuple[Mutant, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="tsscan-mutants-") as tmp:
        copy = Path(tmp) / "repo"
        copy_repo(copy)
        failed = False
        for m in chosen:  # baseline: the tests pass on the unmutated copy
            code, tail, secs = pytest(copy, m.tests, args.timeout)
            if code != 0:
                print(f"baseline FAILED for {m.name}: {' '.join(m.tests)} -> exit {code}: {tail}", file=sys.stderr)
                failed = True
        if failed:
            return 1
        print(f"baseline: the tests of {len(chosen)} mutants pass ({time.monotonic() - start:.0f} s)", file=sys.stderr)
        for m in chosen:
            try:
                saved = plant(copy, m)
            except LookupError as exc:
                rows.append((m, "ERROR", str(exc)))
                print(f"{m.name}: ERROR {exc}", file=sys.stderr)
                continue
            try:
                code, tail, secs = pytest(copy, m.tests, args.timeout)
            finally:
                restore(saved)
            result = "caught" if code == 1 else ("SURVIVED" if code == 0 else f"ERROR (pytest exit {code})")
            rows.append((m, result, f"{secs:.0f} s"))
            print(f"{m.name}: {result} in {secs:.0f} s: {tail}", file=sys.stderr)
    print(table(rows))
    bad = [m.name for m, result, _ in rows if result != "caught"]
    total = time.monotonic() - start
    print(f"\n{len(rows) - len(bad)} of {len(rows)} mutants caught in {total:.0f} s.", file=sys.stderr)
    if bad:
        print(f"not caught: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
