"""Safehold: a self-hosted privacy backend that keeps a privacy statement's promises."""

__version__ = "0.1.0"
