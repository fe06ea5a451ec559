"""Request and response schemas: the one declaration of the HTTP surface."""
