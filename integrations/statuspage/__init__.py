"""Public status pages: the `StatusPage` port (`base.py`) and Atlassian Statuspage."""
