"""PyTorch static int8 through PT2E (torchao, X86InductorQuantizer), saved with torch.export.

The saved program runs in eager mode with reference (q/dq) ops, which is what the accuracy
numbers measure; `torch.compile` lowers it to x86 int8 kernels for speed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from lmk.files import atomic_path
from lmk.quiet import library_output_dropped
from lmk.runtime.torch_runner import PT2_META_KEY as META_KEY  # the reader owns the format


def quantize_pt2e(model: torch.nn.Module, inputs: np.ndarray) -> torch.nn.Module:
    """Export, insert observers, calibrate on `inputs`, convert to a quantized graph module."""
    with library_output_dropped():
        from torchao.quantization.pt2e import allow_exported_model_train_eval
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
        from torchao.quantization.pt2e.quantizer.x86_inductor_quantizer import (
            X86InductorQuantizer,
            get_default_x86_inductor_quantization_config,
        )

    model = model.eval().float().to(memory_format=torch.contiguous_format)
    example = (torch.from_numpy(np.ascontiguousarray(inputs[:1], dtype=np.float32)),)
    with library_output_dropped():
        graph = torch.export.export(model, example).module()
        quantizer = X86InductorQuantizer().set_global(get_default_x86_inductor_quantization_config())
        prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for x in inputs:
            prepared(torch.from_numpy(np.ascontiguousarray(x[None], dtype=np.float32)))
    with library_output_dropped():
        converted = convert_pt2e(prepared)
    drop_dead_float_weights(converted)
    allow_exported_model_train_eval(converted)  # runners call .eval()
    return converted


def drop_dead_float_weights(module: torch.fx.GraphModule) -> None:
    """convert_pt2e folds weights into int8 constants but leaves the float originals attached
    (unused): without this the saved int8 file is larger than the fp32 one."""
    for node in list(module.graph.nodes):
        if node.op == "get_attr" and not node.users:
            module.graph.erase_node(node)
    module.recompile()
    used = {node.target for node in module.graph.nodes if node.op == "get_attr"}
    for name in [k for k in module.state_dict() if k not in used]:
        owner, _, attr = name.rpartition(".")
        delattr(module.get_submodule(owner) if owner else module, attr)


def export_program(module: torch.nn.Module, input_size: int) -> torch.export.ExportedProgram:
    """The program a .pt2 file holds, exported once: it is scored and saved as it is, so the
    metrics stamped into the file are those of the file's own graph."""
    example = (torch.zeros(1, 3, input_size, input_size),)
    program = torch.export.export(module, example)
    for node in program.graph.nodes:  # debugging metadata and the example input: ~25 % of the file
        for key in ("stack_trace", "from_node", "nn_module_stack", "source_fn_stack"):
            node.meta.pop(key, None)
    program._example_inputs = None
    return program


def program_module(program: torch.export.ExportedProgram) -> torch.nn.Module:
    """The runnable module of a program, as `lmk.runtime.torch_runner.load_pt2` gives it."""
    with library_output_dropped():
        from torchao.quantization.pt2e import allow_exported_model_train_eval

    module = program.module()
    allow_exported_model_train_eval(module)
    return module


def save_pt2(program: torch.export.ExportedProgram, path: Path, meta: dict) -> Path:
    """torch.export.save with the metadata as an extra file, written atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.export.save(program, str(tmp), extra_files={META_KEY: json.dumps(meta)})
    return path
