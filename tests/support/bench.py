"""bench/ is a folder of scripts run from the repository root (`python -m bench.X`), not an installed
package: tests import its modules by putting the root on the path first."""
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def bench_module(name: str):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"bench.{name}")
