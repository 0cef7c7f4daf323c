"""Accounts services: sign-in and keys in `auth`, companies and people in `users`."""
