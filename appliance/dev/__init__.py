"""Laptop-only helpers: ``make demo`` (local S3, mock GPIO) and a local stand-in for the gallery site."""
