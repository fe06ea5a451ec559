"""Local stand-ins for outside services, speaking their real paths, status codes, headers and bodies."""
