"""Library chatter kept out of lmk's own output: ONNX Runtime's calibration prints, torchao's
import-time messages and deprecation warnings say nothing a user of lmk can act on."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator


@contextlib.contextmanager
def library_output_dropped() -> Iterator[None]:
    """Python-level prints, warnings and log records below ERROR, while a library call runs."""
    previous = logging.root.manager.disable
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(previous)
