"""MLflow records of a refiner training run (main rank only; other ranks get a silent log).

A resumed run continues the MLflow run its checkpoint names, so one training has one run
whatever the number of kills. The run carries the params, per-step losses and D accuracies,
grids, the final state_dict + config, and the registered model `refiner-<domain>`; its tags
(from pipeline.tracking) hold the git commit and the input splits' checksums.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import torch

from pipeline import tracking

EXPERIMENT = "train_refiner"


class RunLog:
    def __init__(self, run=None):
        self.run = run

    @property
    def run_id(self) -> str:
        return self.run.info.run_id if self.run else ""

    def params(self, flat: dict) -> None:
        if self.run:
            import mlflow
            mlflow.log_params(flat)

    def metrics(self, values: dict[str, float], step: int) -> None:
        if self.run:
            import mlflow
            mlflow.log_metrics(values, step=step)

    def grid(self, image: np.ndarray, step: int) -> None:
        if self.run:
            import mlflow
            mlflow.log_image(image, artifact_file=f"grids/step-{step:06d}.png")

    def final(self, refiner: torch.nn.Module, config: dict, files: list[Path], domain: str) -> None:
        """The refiner file and outputs as artifacts, and the model registered as refiner-<domain>."""
        if not self.run:
            return
        import mlflow
        import mlflow.pytorch
        from mlflow.models import ModelSignature
        from mlflow.types import Schema, TensorSpec
        for f in files:
            mlflow.log_artifact(str(f), artifact_path="outputs")
        mlflow.log_dict(config, "outputs/refiner-config.json")
        # pt2 (torch.export), not pickle: loading it from the registry runs no pickled code. The
        # -1 dims of the signature export batch, height and width as dynamic, so the registered
        # graph stays fully convolutional (any image size), as R is.
        spec = TensorSpec(np.dtype(np.float32), (-1, config["in_channels"], -1, -1))
        example = np.zeros((2, config["in_channels"], config["height"], config["width"]), np.float32)
        mlflow.pytorch.log_model(refiner.cpu().float().eval(), name="refiner", serialization_format="pt2",
                                 input_example=example, signature=ModelSignature(Schema([spec]), Schema([spec])),
                                 registered_model_name=f"refiner-{domain}",
                                 pip_requirements=[f"torch=={torch.__version__.split('+')[0]}"])


@contextlib.contextmanager
def open_run(enabled: bool, domain: str, resume_run_id: str, data: dict[str, Path], tags: dict):
    """A RunLog on a new or resumed MLflow run; a silent RunLog when not `enabled`."""
    if not enabled:
        yield RunLog()
        return
    import mlflow
    from mlflow.exceptions import MlflowException

    if resume_run_id:
        mlflow.set_tracking_uri(tracking.tracking_uri())
        try:
            mlflow.get_run(resume_run_id)
        except MlflowException:
            resume_run_id = ""  # the checkpoint came from another tracking store: start a new run
    if resume_run_id:
        with mlflow.start_run(run_id=resume_run_id) as run:
            yield RunLog(run)
    else:
        with tracking.start_run(EXPERIMENT, domain, data=data, tags=tags) as run:
            yield RunLog(run)
