"""PLACEHOLDER"""

from fastapi import FastAPI


def install_openapi(app: FastAPI) -> None:
    return None
