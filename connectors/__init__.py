"""Thin clients for the outside services Reengage talks to; each maps failures onto ConnectorError."""
