"""AutoMuse: a story engine and a Discord bot that co-write fiction with a whole channel."""
