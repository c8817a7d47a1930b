"""Harvesting: fetching records from live services (arXiv OAI-PMH) and ingesting them page by page."""

from .oai import HarvestError, HarvestState, HarvestSummary, OaiHarvester

__all__ = ["HarvestError", "HarvestState", "HarvestSummary", "OaiHarvester"]
