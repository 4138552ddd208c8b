# The pipeline in a container, installed exactly as the README installs it: scripts/bootstrap.sh
# (pyproject.toml pinned by constraints.txt into /app/.venv), running the README's main job by
# default: scripts/run.sh (dvc repro of the whole pipeline, then the metrics).
#
#   docker build -t simgan .                    # CPU image (torch's CPU wheel)
#   docker build -t simgan:cuda \
#     --build-arg BASE_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04 \
#     --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu126 .
#   docker run --rm simgan                       # or --gpus all simgan:cuda
#   docker run --rm simgan simgan flow --profile tiny
#
# Build from a git clone: DVC works inside a git repo and MLflow runs are tagged with the commit.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

# Where pip finds torch==2.13.0: PyPI's Linux wheel is the multi-GB CUDA build, so the CPU
# image takes it from PyTorch's CPU index; a CUDA image names its CUDA index.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# git for DVC and run tags; python3.11 only where the base has none (the CUDA images).
# Versions follow the base image's distribution, so apt packages are not pinned.
# hadolint ignore=DL3008,SC2046
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
      $(command -v python3.11 >/dev/null || echo python3.11 python3.11-venv) \
 && rm -rf /var/lib/apt/lists/* \
 && (id -u 1000 >/dev/null 2>&1 || useradd --create-home --uid 1000 simgan) \
 && mkdir /app && chown 1000:1000 /app

USER 1000:1000
WORKDIR /app
COPY --chown=1000:1000 . .
RUN PIP_EXTRA_INDEX_URL="${TORCH_INDEX}" bash scripts/bootstrap.sh
ENV PATH=/app/.venv/bin:$PATH

CMD ["bash", "scripts/run.sh"]
