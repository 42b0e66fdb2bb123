"""Pure decisions: no Slack, no HTTP, no database. Everything here takes `now` as an argument."""
