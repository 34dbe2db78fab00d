"""HTTP controllers, one module per resource: they translate and call the application."""
