"""Readers and authors: accounts signed in by e-mail link, upvotes, libraries, follows and profile claims.

The domain logic lives here, with no HTTP in it, so that the web pages, the JSON API, the digest and the command
line share one set of rules.  This package may import the store, the model, disambiguation curation and metrics;
web, digest and cli import it, never the reverse.  Every table it uses is created by store migration 0021.
"""
