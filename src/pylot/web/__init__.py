"""The web console: its server routes (routes.py) and the built React app (static/, git-ignored)."""
