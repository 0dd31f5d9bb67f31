"""TS901, the code `--verify` gives compiler errors no rule covers: a rule-like entry.

It is listed by ``tsscan rules`` and documented like a rule, but no static check finds it: only
the verifier (:mod:`tsscan.verify`) reports it. Output and docs import it from here, so they
never import the verifier (subprocesses, signals, temporary directories).
"""

from __future__ import annotations

from tsscan.rule import Rule


class CompilerErrorCode(Rule):
    """The compiler rejects code that no rule flags (reported by `--verify`).

    What it does:
        `tsscan check --verify` and `tsscan explain-error` run the installed
        `torch.jit.script` on every module class and scripted function of a file (in a worker
        process) and map each error to a file line. An error on a line that a rule already
        reports is shown under that rule; any other error is reported as TS901.

    Why is this bad:
        The module does not script, and no static rule predicted it: either a construct tsscan
        does not know yet, or an interaction of several constructs.

    Example:
        path/model.py:42:1: TS901 compiler error not covered by a rule: ...

    Use instead:
        Read the compiler's message (shown in full with `tsscan explain-error PATH`) and
        rewrite the line. Please report the construct so a rule can cover it.

    Fix:
        `tsscan explain-error PATH --full` shows the compiler's whole message.

    Notes:
        Not a static rule: it needs torch and runs user code (in a sandboxed worker). It only
        appears with `--verify` or `tsscan explain-error`.
    """

    code = "TS901"
    name = "compiler-error"
    message = "compiler error not covered by a rule"
    fails_in = ">=1.0"
    level = "type"


COMPILER_CODES: list[type[Rule]] = [CompilerErrorCode]
