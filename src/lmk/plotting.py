"""The one way lmk writes a plot: matplotlib on the Agg backend when it is installed, the legend
below the axes (never over the data), and a PNG that is never half-written."""

from __future__ import annotations

from pathlib import Path


def pyplot():
    """matplotlib.pyplot on the Agg backend, or None when matplotlib is absent (plots are optional)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_figure(plt, fig, ax, path: Path) -> None:
    """Legend below the axes, then write the PNG to a temporary name and rename it into place."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), fontsize="small")
    fig.tight_layout()
    tmp = Path(path).with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)
