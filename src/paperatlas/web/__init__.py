"""The web UI and JSON API: server-rendered pages, feeds and a cached JSON API over the store."""
