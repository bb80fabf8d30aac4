"""API views, one module per concept; each parses input, calls one service, renders."""
