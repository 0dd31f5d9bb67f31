"""`--fix` and `--diff`: rule fixes applied to a fixed point (:mod:`.edits`), each confirmed by
the compiler (:mod:`.fixer`, judged by :mod:`.judge`)."""
