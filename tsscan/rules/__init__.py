"""The built-in rules: one rule per module, found with :mod:`pkgutil` (modules whose names start
with ``_`` are helpers, not rules). Users' own rule directories are loaded by path
(``[tool.tsscan] rule-dirs``); see ``docs/writing-rules.md``."""
