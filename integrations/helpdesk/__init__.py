"""Helpdesk integrations: Zendesk and Freshdesk behind one small interface (`base.py`)."""
