"""Speech recognition engines: audio in, text with segments and word timings out."""
