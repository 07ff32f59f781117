"""Sahabat Nifas: the Telegram application, its configuration and command line."""
