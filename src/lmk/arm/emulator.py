"""An emulated aarch64 Python with MNN, for checking .mnn files on the kernels phones run.

Built with apt-get and pip only, into a cache folder: qemu-user-static and an arm64 Python userland
come from the host's own Debian sources (a private APT_CONFIG with arm64 as its architecture, so the
host's package state is never touched), MNN and numpy from PyPI's aarch64 wheels. MNN picks its
kernels by CPU feature, so `-cpu cortex-a53` runs the ARMv8.0 ones, `cortex-a76` the ARMv8.2
dot-product + fp16 ones and `max` adds i8mm (ARMv8.6).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# qemu CPU model -> what MNN runs on it (its banner: i8sdot / fp16 / i8mm)
CPUS = {
    "cortex-a53": "ARMv8.0 (no dot product)",
    "cortex-a76": "ARMv8.2 dot product + fp16",
    "max": "ARMv8.6 i8mm (+ SVE2)",
}
DEFAULT_CPUS = ("cortex-a53", "cortex-a76", "max")
SHORT = {"cortex-a53": "a53", "cortex-a76": "a76", "max": "i8mm"}
ARM_PACKAGES = ("python3-minimal", "libpython3-stdlib", "libstdc++6", "libgomp1")


class EmulatorError(RuntimeError):
    """The emulated environment cannot be set up or run here; the message says why."""


def _version(pkg: str, fallback: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return fallback


def default_cache() -> Path:
    """$LMK_ARM_CACHE, else ~/.cache/lmk/arm-mnn<version> (one environment per MNN version)."""
    if os.environ.get("LMK_ARM_CACHE"):
        return Path(os.environ["LMK_ARM_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "lmk" / f"arm-mnn{_version('MNN', '3.6.1')}"


@dataclass(frozen=True)
class ArmEnv:
    root: Path

    @property
    def info(self) -> dict:
        return json.loads((self.root / "ready.json").read_text())

    def command(self, cpu: str, args: list[str], pythonpath: list[Path]) -> list[str]:
        """argv that runs the emulated `python3 ARGS` on `cpu`."""
        if cpu not in CPUS:
            raise ValueError(f"unknown ARM CPU {cpu!r}; choose from {', '.join(CPUS)}")
        path = ":".join(str(p) for p in [self.root / "site", *pythonpath])
        return [
            str(self.root / "qemu-aarch64-static"),
            "-cpu",
            cpu,
            "-L",
            str(self.root / "rootfs"),
            "-E",
            f"PYTHONPATH={path}",
            "-E",
            "PYTHONNOUSERSITE=1",
            "-E",
            "OMP_NUM_THREADS=1",
            str(self.root / "rootfs" / "usr" / "bin" / self.info["python"]),
            "-s",
            *args,
        ]


def find_env(cache: Path | None = None) -> ArmEnv | None:
    """The environment if it was set up (quantize and the benchmarks use it only then)."""
    root = Path(cache) if cache else default_cache()
    return ArmEnv(root) if (root / "ready.json").is_file() else None


def ensure_env(cache: Path | None = None, log=print) -> ArmEnv:
    """Set up (once) and return the emulated environment; EmulatorError says why it cannot."""
    root = Path(cache) if cache else default_cache()
    env = find_env(root)
    if env:
        return env
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise EmulatorError(
            f"the ARM check runs on x86-64 Linux hosts; this is {platform.system()} {platform.machine()}"
        )
    missing = [tool for tool in ("apt-get", "dpkg-deb") if not shutil.which(tool)]
    if missing:
        raise EmulatorError(f"the ARM check needs {' and '.join(missing)} (a Debian or Ubuntu host) to fetch qemu")
    log(
        f"setting up the emulated ARM environment in {root} (qemu and an arm64 Python from Debian's "
        "packages, MNN's aarch64 wheel from PyPI; about 20 s, once); --arm off skips the ARM check"
    )
    root.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.setup-"))
    try:
        t0 = time.time()
        _build(work, log)
        shutil.rmtree(root, ignore_errors=True)
        work.rename(root)
        log(f"ARM environment ready in {time.time() - t0:.0f} s: {root}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ArmEnv(root)


def _run(cmd: list[str], what: str, env: dict | None = None, timeout: float = 900) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise EmulatorError(f"{what}: timed out after {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-4:])
        raise EmulatorError(f"{what} failed (exit {proc.returncode}): {tail}")
    return proc.stdout


def _apt_env(work: Path) -> dict:
    """A private apt: its own lists and cache, arm64 first, amd64 for qemu; the host's sources."""
    state, cache = work / "apt" / "state", work / "apt" / "cache"
    (state / "lists" / "partial").mkdir(parents=True)
    (cache / "archives" / "partial").mkdir(parents=True)
    (state / "status").touch()
    conf = work / "apt" / "apt.conf"
    conf.write_text(
        f'Dir::State "{state}";\nDir::State::status "{state}/status";\nDir::Cache "{cache}";\n'
        'APT::Architecture "arm64";\nAPT::Architectures { "arm64"; "amd64"; };\n'
        'APT::Sandbox::User "root";\n'
    )
    return {**os.environ, "APT_CONFIG": str(conf), "DEBIAN_FRONTEND": "noninteractive"}


def _build(work: Path, log) -> None:
    env = _apt_env(work)
    log("ARM environment: apt-get update (private lists, arm64)")
    _run(["apt-get", "update", "-q"], "apt-get update", env)
    log(f"ARM environment: arm64 {', '.join(ARM_PACKAGES)} + qemu-user-static")
    _run(
        ["apt-get", "install", "-q", "-y", "--download-only", "--no-install-recommends", *ARM_PACKAGES],
        "apt-get (arm64 Python)",
        env,
    )
    debs = work / "debs"
    debs.mkdir()
    _run(["sh", "-c", f"cd '{debs}' && apt-get download -q qemu-user-static:amd64"], "apt-get download qemu", env)
    rootfs, qemu_tree = work / "rootfs", work / "qemu"
    for deb in sorted((work / "apt" / "cache" / "archives").glob("*.deb")):
        _run(["dpkg-deb", "-x", str(deb), str(rootfs)], f"unpack {deb.name}")
    for deb in debs.glob("qemu-user-static_*.deb"):
        _run(["dpkg-deb", "-x", str(deb), str(qemu_tree)], f"unpack {deb.name}")
    qemu = qemu_tree / "usr" / "bin" / "qemu-aarch64-static"
    if not qemu.is_file():
        raise EmulatorError("qemu-user-static did not provide qemu-aarch64-static")
    qemu.rename(work / "qemu-aarch64-static")
    qemu_version = _run([str(work / "qemu-aarch64-static"), "--version"], "qemu --version").splitlines()[0]
    shutil.rmtree(qemu_tree)
    shutil.rmtree(debs)
    shutil.rmtree(work / "apt")
    pythons = sorted(p.name for p in (rootfs / "usr" / "bin").glob("python3.*") if p.name[8:].isdigit())
    if not pythons:
        raise EmulatorError("the arm64 packages gave no python3.X interpreter")
    python = pythons[-1]
    mnn, numpy = _version("MNN", "3.6.1"), _version("numpy", "")
    log(f"ARM environment: pip aarch64 wheels MNN=={mnn}, numpy{'==' + numpy if numpy else ''} for {python}")
    _run(
        [
            *_pip(),
            "install",
            "-q",
            "--target",
            str(work / "site"),
            "--platform",
            "manylinux2014_aarch64",
            "--platform",
            "manylinux_2_28_aarch64",  # Debian 12's glibc is 2.36; newer numpy wheels need 2.28
            "--python-version",
            python.removeprefix("python"),
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--no-deps",
            f"MNN=={mnn}",
            f"numpy=={numpy}" if numpy else "numpy",
        ],
        "pip (aarch64 wheels)",
    )
    info = {"python": python, "mnn": mnn, "numpy": numpy, "qemu": qemu_version, "debian_packages": list(ARM_PACKAGES)}
    (work / "ready.json").write_text(json.dumps(info, indent=2))
    probe = ArmEnv(work).command("max", ["-c", "import MNN, numpy; print('ok')"], [])
    if "ok" not in _run(probe, "emulated import of MNN", timeout=300):
        raise EmulatorError("the emulated Python could not import MNN")


def _pip() -> list[str]:
    return [sys.executable, "-m", "pip"]
