"""tsscan: find and fix what torch.jit.script rejects, before running anything."""

__version__ = "0.1.0"
