"""A toy DVC repo shaped like the pipeline (stages `name@domain`, a matrix, a report), each
stage a ~1.5 s Python command: fast enough to run the real flow and server in tests."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import git, tool_env

# domain-shaped stage names like the real pipeline's; each stage logs start/end to events.log
# (not an output) so the test can see stages overlap
TOY_DVC_YAML = """
stages:
  make:
    foreach: [eyes, hands]
    do:
      cmd: python toy.py make ${item}
      deps:
        - toy.py
      params:
        - ${item}.n
      outs:
        - out/make-${item}.txt
  use:
    matrix:
      domain: [eyes, hands]
      data: [a, b]
    cmd: python toy.py use ${item.domain}-${item.data}
    deps:
      - toy.py
      - out/make-${item.domain}.txt
    outs:
      - out/use-${item.domain}-${item.data}.txt
  report:
    cmd: python toy.py report all
    deps:
      - out/use-eyes-a.txt
      - out/use-hands-b.txt
    metrics:
      - out/report.json:
          cache: false
"""
TOY_PY = """
import json, sys, time, yaml
from pathlib import Path
kind, item = sys.argv[1:]
log = open("events.log", "a")
log.write(f"start {kind}@{item}\\n"); log.flush()
time.sleep(1.5)
Path("out").mkdir(exist_ok=True)
if kind == "make":
    n = yaml.safe_load(open("params.yaml"))[item]["n"]
    Path(f"out/make-{item}.txt").write_text(item * n)
elif kind == "use":
    domain = item.split("-")[0]
    Path(f"out/use-{item}.txt").write_text(Path(f"out/make-{domain}.txt").read_text().upper())
else:
    Path("out/report.json").write_text(json.dumps({"chars": sum(len(p.read_text()) for p in Path("out").glob("use-*"))}))
log.write(f"end {kind}@{item}\\n")
"""
TOY_DOT = '''strict digraph {
"make@eyes";
"make@hands";
"use@eyes-a";
"use@hands-b";
"report";
"make@eyes" -> "use@eyes-a";
"make@hands" -> "use@hands-b";
"use@eyes-a" -> "report";
"use@hands-b" -> "report";
}'''


def make_toy_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "dvc.yaml").write_text(TOY_DVC_YAML)
    (path / "toy.py").write_text(TOY_PY)
    (path / "params.yaml").write_text("eyes:\n  n: 3\nhands:\n  n: 5\n")
    (path / ".gitignore").write_text("events.log\n")
    git(path, "init", "-q")
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=path, check=True, env=tool_env())
    git(path, "-c", "user.email=t@t", "-c", "user.name=t", "add", "-A")
    git(path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "toy")
    return path
