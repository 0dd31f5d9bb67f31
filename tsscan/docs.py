"""Rule pages, generated from the rules themselves (``docs/rules/TSnnn.md``)."""
from __future__ import annotations

import textwrap
from typing import List, Sequence

from tsscan.rule import SAFE, Rule


def _code_block(code: str) -> str:
    return "```python\n" + textwrap.dedent(code).strip("\n") + "\n```\n"


def rule_page(rule: type) -> str:
    sections = rule.doc_sections()
    out: List[str] = [f"# {rule.code} {rule.name}\n", f"\n{rule.summary()}\n"]
    out.append(f"\n*Message:* {rule.message}\n")
    out.append(f"\n*Fails in torch:* `{rule.fails_in}` · *level:* {rule.level}")
    if rule.fix_safety:
        out.append(f" · *fix:* {rule.fix_safety}")
    out.append("\n")
    for heading in ("What it does", "Why is this bad", "Example", "Use instead", "Fix", "Notes"):
        body = sections.get(heading)
        if body:
            out.append(f"\n## {heading}\n\n{textwrap.dedent(body).strip()}\n")
    if rule.invalid:
        out.append("\n## Examples the compiler rejects\n\nChecked by the test suite with `torch.jit.script`.\n")
        for ex in rule.invalid:
            out.append("\n" + _code_block(ex.code))
            if ex.fixed:
                label = "safe" if rule.fix_safety == SAFE else "unsafe"
                out.append(f"\n`tsscan --fix` ({label}) turns it into:\n\n" + _code_block(ex.fixed))
    if rule.valid:
        out.append("\n## Examples that script (not flagged)\n")
        for ex in rule.valid:
            out.append("\n" + _code_block(ex.code))
    return "".join(out)


def index_page(rules: Sequence[type]) -> str:
    lines = [
        "# Rules\n",
        "\nGenerated from `rules/` by `python -m tsscan.docs`; `tests/test_docs.py` fails when this drifts.\n",
        "\n| code | name | fix | fails in torch | summary |\n|---|---|---|---|---|\n",
    ]
    for r in rules:
        lines.append(
            f"| [{r.code}]({r.code}.md) | {r.name} | {r.fix_safety or '—'} | `{r.fails_in}` | {r.summary()} |\n"
        )
    return "".join(lines)


def generated_pages(rules: Sequence[type]) -> dict:
    pages = {f"{r.code}.md": rule_page(r) for r in rules}
    pages["index.md"] = index_page(rules)
    return pages


def main() -> int:  # python -m tsscan.docs [DIR]
    import sys
    from pathlib import Path

    from tsscan.rule import load_rules

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")
    target.mkdir(parents=True, exist_ok=True)
    pages = generated_pages(load_rules())
    for old in target.glob("TS*.md"):
        if old.name not in pages:
            old.unlink()
    for name, text in pages.items():
        (target / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(pages)} pages to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
