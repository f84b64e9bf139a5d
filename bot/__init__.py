"""Application wiring, settings and the command line for the Commissioning Assistant."""
