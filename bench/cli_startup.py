"""CLI start-up benchmark (issue #11 §1: ``ledger --help`` ≤ 0.3 s).

Times fresh processes, as a user's shell starts them: ``ledger --help``, the help of every command group, and
``ledger --version``-like trivial work, against two same-run baselines — a bare ``python -c pass`` and
``python -c "import typer"`` (the floor any Typer CLI pays). Prints a table of medians and maxima with each
figure's ratio to the bare interpreter, and the 1-minute load average measured right after each row.
Run: ``.venv/bin/python bench/cli_startup.py [--repeat 15]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GROUPS = ["chain", "evidence", "token", "index", "access-log", "wallet", "accounts", "registry", "proof",
          "checkpoint", "tsa", "recognition"]
HEAVY = ("web3", "eth_account", "sqlalchemy", "sqlmodel", "reportlab", "jsonschema", "requests")


def timed(argv: list[str], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), max(samples)


def heavy_modules_at_start() -> list[str]:
    """Heavy libraries that ``ledger --help`` imports (should be none: commands import what they need)."""
    probe = ("import sys; sys.argv = ['ledger', '--help']\nimport ledger.cli\n"
             "try:\n    ledger.cli.main()\nexcept SystemExit:\n    pass\n"
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    lines = done.stderr.strip().splitlines()
    return [m for m in lines[-1].split(",") if m] if lines else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    ledger = str(BIN / "ledger")
    rows: list[tuple[str, list[str]]] = [
        ("baseline: python -c pass", [sys.executable, "-c", "pass"]),
        ("baseline: python -c 'import typer'", [sys.executable, "-c", "import typer"]),
        ("ledger --help", [ledger, "--help"]),
    ] + [(f"ledger {group} --help", [ledger, group, "--help"]) for group in GROUPS]
    print(f"{'command':<38} {'median s':>9} {'max s':>7} {'× python':>9} {'load 1m':>8}")
    bare = 0.0
    medians: dict[str, float] = {}
    for label, argv in rows:
        median, worst = timed(argv, args.repeat)
        bare = bare or median
        medians[label] = median
        print(f"{label:<38} {median:>9.3f} {worst:>7.3f} {median / bare:>9.1f} {os.getloadavg()[0]:>8.2f}")
    heavy = heavy_modules_at_start()
    print(f"\nheavy libraries imported by `ledger --help`: {', '.join(heavy) or 'none'}")
    target = 0.3
    verdict = "met" if medians["ledger --help"] <= target else "NOT met"
    print(f"target `ledger --help` ≤ {target} s: {verdict} ({medians['ledger --help']:.3f} s median, "
          f"{args.repeat} runs)")


if __name__ == "__main__":
    main()
