"""The natural-bayes NLU engine: a sparse naive Bayes over word and character n-grams, fused with
sentence-embedding similarity for paraphrases and out-of-scope rejection."""
