"""Rule pages, generated from the rules themselves (``docs/rules/TSnnn.md`` and ``index.md``).

``python -m tsscan.docs [DIR]`` writes them (default ``docs/rules``); ``tests/test_docs.py``
regenerates them in a temporary directory and fails when the committed pages differ.
``tsscan explain TS101`` prints the same page in the terminal.

Everything on a page comes from the rule class: the docstring's sections (What it does, Why is
this bad, Example, Use instead, Fix, Notes, Versions), ``message``, ``fix_safety``, ``fails_in``,
``level`` and the ``invalid``/``valid`` examples the test suite compiles with the real torch.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Sequence
from pathlib import Path

from tsscan.rule import OPT_IN_BANDS, SAFE, UNSAFE, Rule

BANDS = {
    "1": "Statements and syntax",
    "2": "Types, annotations and signatures",
    "3": "Module structure and attributes",
    "4": "Tensor API and torch calls",
    "5": "Python builtins and other libraries",
    "6": "Scripts, but behaves differently",
    "7": "May fail: depends on constructor arguments other than the defaults",
    "9": "Compiler errors no rule predicted",
}

FIX_TEXT = {
    SAFE: (
        "**Safe fix.** `tsscan --fix` applies it: the rewritten code behaves the same as the original for every input."
    ),
    UNSAFE: (
        "**Unsafe fix.** Offered only with `tsscan --fix --unsafe-fixes` (or shown with "
        "`--diff --unsafe-fixes`): the rewrite can behave differently for some inputs, so "
        "review it."
    ),
    None: "**No automatic fix.** The change needs a decision only the author can make.",
}

LEVEL_TEXT = {
    "syntax": (
        "The compiler's frontend rejects the construct wherever it appears in compiled code, "
        "also in branches a `torch.jit.is_scripting()` check makes dead."
    ),
    "type": (
        "The error comes from type checking, which skips branches a "
        "`torch.jit.is_scripting()` check makes dead; tsscan stays silent there too."
    ),
}


def _code_block(code: str) -> str:
    return "```python\n" + textwrap.dedent(code).strip("\n") + "\n```\n"


def _is_code(paragraph: str) -> bool:
    """A docstring paragraph that is Python code (not a prose sentence)."""
    text = textwrap.dedent(paragraph).strip()
    if not text:
        return False
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    # a bare name or constant parses but is prose ("None", "Nothing")
    return not (
        len(tree.body) == 1
        and isinstance(tree.body[0], ast.Expr)
        and isinstance(tree.body[0].value, (ast.Name, ast.Constant))
    )


def render_section(body: str) -> str:
    """Docstring section text as Markdown: paragraphs of code become fenced blocks (consecutive
    code paragraphs, split by blank lines, stay one block); text already fenced is kept."""
    body = textwrap.dedent(body).strip("\n")
    if "```" in body:
        return body.strip() + "\n"
    paragraphs: list[str] = []
    current: list[str] = []
    for line in body.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    out: list[str] = []
    code: list[str] = []

    def flush() -> None:
        if code:
            out.append(_code_block("\n\n".join(code)).rstrip("\n"))
            code.clear()

    for para in paragraphs:
        if _is_code(para):
            code.append(textwrap.dedent(para))
        else:
            flush()
            out.append(textwrap.dedent(para).strip())
    flush()
    return "\n\n".join(out) + "\n"


def rule_page(rule: type[Rule]) -> str:
    sections: dict[str, str] = rule.doc_sections()
    out: list[str] = [f"# {rule.code} {rule.name}\n", f"\n{rule.summary()}\n"]
    if "{" not in rule.message:  # a template message is filled in per finding
        out.append(f"\n> {rule.code} {rule.message}\n")
    for heading in ("What it does", "Why is this bad", "Example", "Use instead"):
        body = sections.get(heading)
        if body:
            out.append(f"\n## {heading}\n\n{render_section(body)}")

    out.append("\n## Fix\n\n" + FIX_TEXT.get(rule.fix_safety, FIX_TEXT[None]) + "\n")
    if sections.get("Fix"):
        out.append("\n" + render_section(sections["Fix"]))
    fixed = [ex for ex in rule.invalid if ex.fixed]
    if fixed:
        ex = fixed[0]
        assert ex.fixed is not None, "fixed holds only examples with a fix"
        command = "tsscan --fix --unsafe-fixes" if rule.fix_safety == UNSAFE else "tsscan --fix"
        out.append("\nBefore:\n\n" + _code_block(ex.code) + f"\nAfter `{command}`:\n\n" + _code_block(ex.fixed))
        if ex.inputs:
            out.append(
                "\nThe test suite scripts the fixed code and checks it returns the same as the "
                f"original, eagerly, on `{ex.inputs.strip()}`.\n"
            )

    warning = rule.code.startswith("TS6")  # scripts, but behaves differently once scripted
    verb = "compiles this but runs it differently" if warning else "rejects this"
    if rule.code.startswith("TS7"):  # may fail: the class scripts with its defaults
        verb = "rejects this for the constructor arguments the rule names"
    out.append(
        f"\n## Torch versions\n\n`torch.jit.script` {verb} in torch `{rule.fails_in}`; "
        "tsscan runs the rule when the target torch version (`--target-version`, "
        "`[tool.tsscan] target-version`, else the installed torch) is in that range.\n"
    )
    if any(rule.code.startswith(b) for b in OPT_IN_BANDS):
        out.append(
            f"\nNot in the default selection (`TS` does not select the {rule.code[:3]}xx band): "
            f'turn it on with `--extend-select {rule.code[:3]}` or `extend-select = ["{rule.code[:3]}"]`.\n'
        )
    out.append("\n" + LEVEL_TEXT.get(rule.level, "") + "\n")
    if sections.get("Versions"):
        out.append("\n" + render_section(sections["Versions"]))

    if sections.get("Notes"):
        out.append("\n## Notes\n\n" + render_section(sections["Notes"]))

    others = [ex for ex in rule.invalid if ex is not (fixed[0] if fixed else None)]
    if others or rule.valid:
        first = (
            "the first ones compile but give other results (or raise) than eager Python on the same inputs"
            if warning
            else "the first ones fail"
        )
        out.append(
            "\n## Checked examples\n\nThe test suite compiles these with `torch.jit.script`: "
            f"{first}, the ones under *Scripts* compile and tsscan reports nothing "
            "in them.\n"
        )
    for ex in others:
        out.append("\n" + _code_block(ex.code))
        if ex.fixed:
            out.append("\nFixed:\n\n" + _code_block(ex.fixed))
    if rule.valid:
        out.append("\n### Scripts\n")
        for ex in rule.valid:
            out.append("\n" + _code_block(ex.code))
    out.append(f"\n---\n[All rules](index.md) · `tsscan explain {rule.code}` prints this page.\n")
    return "".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def index_page(rules: Sequence[type[Rule]]) -> str:
    out = [
        "# Rules\n",
        "\nEvery rule exists because `torch.jit.script` rejects the construct (each is checked "
        "against the real compiler by the test suite). Fix: *safe* ones are applied by "
        "`tsscan --fix`, *unsafe* ones only with `--unsafe-fixes`.\n",
        "\nThese pages are generated from `tsscan/rules/` by `python -m tsscan.docs`; "
        "`tests/test_docs.py` fails when they drift from the rules. "
        f"{len(rules)} rules.\n",
    ]
    by_band: dict[str, list[type[Rule]]] = {}
    for r in rules:
        by_band.setdefault(r.code[2], []).append(r)
    for band in sorted(by_band):
        title = BANDS.get(band, f"TS{band}xx")
        out.append(f"\n## TS{band}xx {title}\n\n")
        out.append("| code | name | summary | fix | fails in torch |\n|---|---|---|---|---|\n")
        for r in by_band[band]:
            out.append(
                f"| [{r.code}]({r.code}.md) | {r.name} | {_cell(r.summary())} | "
                f"{r.fix_safety or '—'} | `{_cell(r.fails_in)}` |\n"
            )
    return "".join(out)


def documented_rules(extra_dirs: Sequence[Path] = ()) -> list[type[Rule]]:
    """Every code `tsscan rules` lists: the rules in the rule directories, and the TS9xx codes
    that ``--verify`` reports (no static rule finds those)."""
    from tsscan.compiler_rule import COMPILER_CODES
    from tsscan.registry import load_rules

    rules = list(load_rules(extra_dirs))
    return sorted(rules + list(COMPILER_CODES), key=lambda r: r.code)


def generated_pages(rules: Sequence[type[Rule]]) -> dict[str, str]:
    pages = {f"{r.code}.md": rule_page(r) for r in rules}
    pages["index.md"] = index_page(rules)
    return pages


def write_pages(target: Path, rules: Sequence[type[Rule]]) -> dict[str, str]:
    target.mkdir(parents=True, exist_ok=True)
    pages = generated_pages(rules)
    for old in target.glob("TS*.md"):
        if old.name not in pages:
            old.unlink()
    for name, text in pages.items():
        path = target / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return pages


def main(argv: Sequence[str] = ()) -> int:  # python -m tsscan.docs [DIR]
    import sys

    args = list(argv) or sys.argv[1:]
    target = Path(args[0] if args else "docs/rules")
    pages = write_pages(target, documented_rules())
    print(f"wrote {len(pages)} pages to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
