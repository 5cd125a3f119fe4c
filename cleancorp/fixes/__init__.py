"""The repairs the repair stage applies to a line, one module per family of damage.

Every fix is a function ``fix_xxx(line, record=None) -> str`` that returns the line unchanged
when it finds nothing to do (each starts with a cheap precheck of its own), and records every
change it makes with ``record.change(family, before, after, detail)``. The repair stage
(``cleancorp/stages/repair.py``) runs them in a fixed order; each can be switched off by the
stage option of the same name.
"""
