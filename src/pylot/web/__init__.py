"""The web console's built React app (static/, git-ignored; scripts/build_web.sh builds it from web-ui/).
Its server routes are in pylot.server.routes.console."""
