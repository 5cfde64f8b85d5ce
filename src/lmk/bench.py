"""Accuracy against CPU latency for model files (`lmk bench`): what a mobile engineer chooses by.

Every file is scored on the same faces (NME / FR / AUC, no flip test) and timed on one face per
call; the files take turns while being timed (`lmk.runtime.timing.time_in_turns`), so clock or load
drift hits them alike. ORT and MNN files never import torch; .pt / .pt2 files need it.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from lmk.artifact import InputSpec
from lmk.data.crop import read_rgb
from lmk.data.records import FaceRecord
from lmk.evaluation import evaluate_predictions
from lmk.files import atomic_write_bytes, write_json
from lmk.plotting import pyplot, save_figure
from lmk.predict import make_input, predict_records, record_window
from lmk.runtime import load_runner
from lmk.runtime.timing import median_p90, time_in_turns

RUNTIME_OF_SUFFIX = {".mnn": "mnn", ".onnx": "ort", ".pt": "torch", ".pth": "torch", ".pt2": "torch"}


@dataclass
class BenchRow:
    file: str
    runtime: str
    precision: str
    compiled: bool
    input: str
    bytes: int
    faces: int
    nme: float
    fr: float
    auc: float
    median_ms: float
    p90_ms: float


def runtime_of(path: Path) -> str:
    try:
        return RUNTIME_OF_SUFFIX[Path(path).suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: not a model file (.mnn, .onnx, .pt or .pt2)") from None


def find_models(folder: Path, runtimes: tuple[str, ...]) -> list[Path]:
    """The model files in a folder (e.g. `lmk pipeline`'s output) that run on the given runtimes,
    with the fp32 checkpoint that a pipeline folder's summary.json names (torch's float reference)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (run `lmk pipeline` first, or name the files)")
    found = sorted(p for p in folder.iterdir() if p.suffix.lower() in RUNTIME_OF_SUFFIX and p.is_file())
    summary = folder / "summary.json"
    if summary.is_file():
        source = Path(json.loads(summary.read_text()).get("checkpoint", ""))
        if source.suffix == ".pt" and source.is_file() and source not in found:
            found.insert(0, source)
    found = [p for p in found if runtime_of(p) in runtimes]
    if not found:
        raise FileNotFoundError(f"{folder}: no {' / '.join(runtimes)} model files in it")
    return found


def select_models(models: list[Path] | None, folder: Path, runtimes: tuple[str, ...]) -> list[Path]:
    """The files to bench: those given that run on `runtimes`, or else find_models(folder)."""
    if not models:
        return find_models(folder, runtimes)
    files = [p for p in models if runtime_of(p) in runtimes]
    if not files:
        raise ValueError(f"none of the {len(models)} file(s) given runs on {', '.join(runtimes)}")
    return files


def set_torch_threads(threads: int) -> None:
    """Torch's intra-op threads (0: leave torch's default); ORT and MNN take theirs per session."""
    import torch

    if threads > 0:
        torch.set_num_threads(threads)


def host_info(threads: int) -> dict:
    """CPU, threads and runtime versions: latency means little without them."""
    from importlib.metadata import PackageNotFoundError, version

    info = {"cpu": cpu_name(), "machine": platform.machine(), "threads": threads}
    for pkg in ("MNN", "onnxruntime", "torch"):
        try:
            info[pkg] = version(pkg)
        except PackageNotFoundError:
            info[pkg] = None
    return info


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def bench(
    files: list[Path],
    records: list[FaceRecord],
    threads: int = 1,
    runs: int = 50,
    warmup: int = 3,
    compile: bool = False,
    log=print,
) -> list[BenchRow]:
    """Score every file on `records`, then time them one face per call (a real crop, the first
    record's, at each file's own input size). compile: torch files run through `torch.compile`
    (scored and timed so), which is what makes a PT2E int8 program fast on x86."""
    if not records:
        raise ValueError("bench needs at least one face to score and to time on")
    if "torch" in [runtime_of(p) for p in files]:  # (also: a clear error for an unknown suffix first)
        set_torch_threads(threads)
    image = read_rgb(records[0].image_path)
    loaded, rows = {}, {}
    for path in files:
        runner, meta = load_runner(path, threads=threads, compile=compile)
        spec = InputSpec.from_meta(meta)
        log(f"scoring {path} on {len(records)} faces")
        scores = evaluate_predictions(records, predict_records(records, runner, spec))[0]["all"]
        x = make_input(image, record_window(records[0], spec), spec)[None]
        loaded[path] = partial(runner, x)
        rows[path] = dict(
            file=str(path),
            runtime=runtime_of(path),
            precision=str(meta.get("precision", "fp32")),
            compiled=compile and runtime_of(path) == "torch",
            input="x".join(str(d) for d in x.shape),
            bytes=path.stat().st_size,
            faces=scores.faces,
            nme=round(scores.nme, 4),
            fr=round(scores.fr, 3),
            auc=round(scores.auc, 5),
        )
    log(f"timing {len(files)} file(s): {runs} calls each after {warmup} warm-up calls, {threads} thread(s)")
    times = time_in_turns(loaded, runs, warmup)
    summary = {p: median_p90(times[p]) for p in files}
    return [BenchRow(**rows[p], median_ms=summary[p][0], p90_ms=summary[p][1]) for p in files]


def _mode(row: BenchRow) -> str:
    """How a torch file ran: eager PT2E int8 uses reference q/dq ops, is slow, and runs on its own
    fixed thread count (its NME depends on it); compiled is not."""
    if row.runtime != "torch":
        return ""
    if row.compiled:
        return " (compiled)"
    if Path(row.file).suffix == ".pt2":
        from lmk.runtime.torch_runner import PT2_EAGER_THREADS

        return f" (eager, {PT2_EAGER_THREADS} thread{'s' if PT2_EAGER_THREADS > 1 else ''})"
    return " (eager)"


def markdown(rows: list[BenchRow], host: dict, dataset: str, runs: int) -> str:
    lines = [
        f"Accuracy on {dataset} ({rows[0].faces} faces, no flip test) and CPU latency on {host['cpu']}, "
        f"{host['threads']} thread(s), one face per call, median / p90 of {runs} calls, files taking turns "
        f"(`lmk bench`; MNN {host['MNN']}, ONNX Runtime {host['onnxruntime']}, torch {host['torch']}).",
        "",
        "| file | runtime | precision | input | MB | NME % | FR@0.1 % | AUC@0.1 | median ms | p90 ms |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {Path(r.file).name} | {r.runtime}{_mode(r)} | {r.precision} | "
            f"{r.input} | {r.bytes / 2**20:.2f} | "
            f"{r.nme:.3f} | {r.fr:.2f} | {r.auc:.4f} | {r.median_ms:.2f} | {r.p90_ms:.2f} |"
        )
    return "\n".join(lines) + "\n"


def save_plot(path: Path, rows: list[BenchRow], title: str) -> bool:
    """NME against median latency, one labelled point per file; False when matplotlib is absent."""
    plt = pyplot()
    if plt is None:
        return False
    colours = {"mnn": "tab:blue", "ort": "tab:orange", "torch": "tab:green"}
    markers = {"fp32": "o", "fp16": "s", "w8": "D", "int8": "^"}
    fig, ax = plt.subplots(figsize=(7, 4.2 + 0.22 * len(rows)))
    for r in rows:  # one legend entry per file: labels next to clustered points would overlap
        label = f"{Path(r.file).name}: {r.runtime}{_mode(r)} {r.precision}, {r.median_ms:.1f} ms, {r.nme:.3f} %"
        style = {"color": colours[r.runtime], "marker": markers.get(r.precision, "o")}
        ax.scatter(r.median_ms, r.nme, s=40, label=label, **style)
    ax.set_xlabel("median latency per face (ms)")
    ax.set_ylabel("NME (%)")
    ax.set_xlim(left=0)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    save_figure(plt, fig, ax, path)
    return True


def write_report(out: Path, rows: list[BenchRow], host: dict, dataset: str, runs: int) -> list[Path]:
    """OUT/bench.json, bench.md and bench.png (accuracy against latency)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "bench.json", {"dataset": dataset, "host": host, "runs": runs, "rows": [asdict(r) for r in rows]})
    atomic_write_bytes(out / "bench.md", markdown(rows, host, dataset, runs).encode())
    written = [out / "bench.json", out / "bench.md"]
    title = f"{dataset}: NME vs latency, {host['cpu']}, {host['threads']} thread(s)"
    if save_plot(out / "bench.png", rows, title):
        written.append(out / "bench.png")
    return written
