"""Engines behind the registry: NLU, retrieval, answerers, language detection, speech."""
