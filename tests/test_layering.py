"""Data flows one way: runtime/ never imports the training, export or quantize code (a phone-side
runtime must not drag the build tools in), transitively through lmk's own modules."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
FORBIDDEN = ("lmk.training", "lmk.export", "lmk.quantize")


def lmk_imports(module: str) -> set[str]:
    path = SRC / (module.replace(".", "/") + ".py")
    if not path.is_file():
        path = SRC / module.replace(".", "/") / "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lmk"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("lmk")}
    return found


def test_runtime_imports_no_training_export_or_quantize_code():
    start = {f"lmk.runtime.{p.stem}" for p in (SRC / "lmk" / "runtime").glob("*.py") if p.stem != "__init__"}
    seen, todo = set(), [*start, "lmk.runtime"]
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        todo += sorted(lmk_imports(mod))
    bad = sorted(m for m in seen if m.startswith(FORBIDDEN))
    assert not bad, f"runtime/ reaches {bad}"


def test_the_artifact_module_loads_without_numpy_or_torch():
    """lmk.artifact (the contract every stage shares) imports only the standard library at import
    time: a torch-free phone-side tool can read and check any lmk file's metadata."""
    import subprocess
    import sys

    code = (
        "import sys, lmk.artifact, lmk.files, lmk.choices, lmk.mnn_tools; "
        "print(sorted(m for m in ('numpy', 'torch', 'onnx', 'MNN') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr
