"""Orchestration of the batch stages that turn ingested records into derived figures."""
