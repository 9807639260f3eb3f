"""Media uploads (MENU-06): validated, re-encoded images stored through `servio.kit.storage`."""
