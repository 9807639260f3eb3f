"""PLACEHOLDER"""

from fastapi import FastAPI

from servio.config import Settings


def install_metrics(app: FastAPI, settings: Settings) -> None:
    return None
