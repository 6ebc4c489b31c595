"""Implementations behind the `bindesk` command line (cli.py keeps only argument parsing)."""
