"""Built-in plugins (one folder each: manifest.json, plugin.py, config.py) and the registry."""
