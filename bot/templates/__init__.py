"""Default customer message templates (Jinja2); a team may override any of them."""
