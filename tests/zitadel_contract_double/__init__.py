"""Zitadel REST v1 contract double (not Zitadel): see server.py."""
from .server import ZitadelContractDouble  # noqa: F401
