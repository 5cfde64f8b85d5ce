"""lmk: facial-landmark deployment pipeline (train -> export -> quantize -> runtime -> bench)."""

__version__ = "0.1.0"
