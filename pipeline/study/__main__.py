import typer

from pipeline.study.cli import study

typer.run(study)
