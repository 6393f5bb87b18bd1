"""What Anthropic charges per model: the table ``assistant.quotas.cost_usd`` prices each reply with."""

# USD per million tokens: input, output, cache write (5-minute TTL), cache read. Looked up by exact
# model name, then by the longest key the model name starts with, then "default".
# https://docs.anthropic.com/en/docs/about-claude/pricing
PRICES: dict[str, dict[str, str]] = {
    "claude-fable-5-1": {"input": "10", "output": "50", "cache_write": "12.50", "cache_read": "0.25"},
    "claude-mythos-5-1": {"input": "10", "output": "50", "cache_write": "12.50", "cache_read": "0.25"},
    "claude-fable-5": {"input": "10", "output": "50", "cache_write": "12.50", "cache_read": "1"},
    "claude-mythos-5": {"input": "10", "output": "50", "cache_write": "12.50", "cache_read": "1"},
    "claude-opus-5-5": {"input": "4", "output": "20", "cache_write": "5", "cache_read": "0.20"},
    "claude-opus-5": {"input": "5", "output": "25", "cache_write": "6.25", "cache_read": "0.50"},
    "claude-opus-4-8": {"input": "5", "output": "25", "cache_write": "6.25", "cache_read": "0.50"},
    "claude-opus-4-7": {"input": "5", "output": "25", "cache_write": "6.25", "cache_read": "0.50"},
    "claude-opus-4-6": {"input": "5", "output": "25", "cache_write": "6.25", "cache_read": "0.50"},
    "claude-opus-4-5": {"input": "5", "output": "25", "cache_write": "6.25", "cache_read": "0.50"},
    "claude-opus-4": {"input": "15", "output": "75", "cache_write": "18.75", "cache_read": "1.50"},
    "claude-sonnet-5-5": {"input": "2", "output": "10", "cache_write": "2.50", "cache_read": "0.10"},
    "claude-sonnet-5": {"input": "2", "output": "10", "cache_write": "2.50", "cache_read": "0.20"},
    "claude-sonnet-4": {"input": "3", "output": "15", "cache_write": "3.75", "cache_read": "0.30"},
    # Haiku 5.5: prompts up to 100k tokens; longer prompts bill 5x (not modelled: our prompts are capped).
    "claude-haiku-5-5": {"input": "0.10", "output": "0.50", "cache_write": "0.125", "cache_read": "0.01"},
    "claude-haiku-4-5": {"input": "1", "output": "5", "cache_write": "1.25", "cache_read": "0.10"},
    "default": {"input": "3", "output": "15", "cache_write": "3.75", "cache_read": "0.30"},
}
