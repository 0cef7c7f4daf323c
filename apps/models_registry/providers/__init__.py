"""Upstream LLM providers: their records and keys, and the engines that talk to them."""
