"""The application builder: ``serve run serve_config.yaml`` imports ``deployments.app:build_app``.

It receives the validated args and binds the deployment graph, handing each deployment only what
it needs.
"""

from __future__ import annotations

from ray.serve import Application

from deployments.aligner import Aligner
from deployments.config import AppArgs
from deployments.diarizer import Diarizer
from deployments.gateway import Gateway
from deployments.runner import TaskRunner
from deployments.transcriber import Transcriber, deployment_name
from deployments.vivo_proxy import VivoChat, VivoTTS


def build_app(args: AppArgs) -> Application:
    """Bind the graph. Serve validates ``args`` against :class:`AppArgs` (unknown keys rejected)."""
    if isinstance(args, dict):
        args = AppArgs.model_validate(args)
    transcribers = {
        m.model: Transcriber.options(name=deployment_name(m.model)).bind(m, args.models, args.storage)
        for m in args.models.served
    }
    diarizer = Diarizer.bind(args.diarization, args.models)
    aligner = Aligner.bind(args.models) if args.models.align_models else None
    runner = TaskRunner.bind(args, transcribers, diarizer, aligner)
    vivo = {"chat": VivoChat.bind(args.vivo), "tts": VivoTTS.bind(args.vivo)}
    return Gateway.bind(args, runner, vivo)
