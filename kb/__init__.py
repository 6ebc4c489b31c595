"""Knowledge-base operations shared by the API, the workers and the CLI: accept uploads, index, delete, search."""
