"""The console's adapters: the services' HTTP APIs."""
