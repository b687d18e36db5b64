"""``rewardkit audit``: check a reward before anyone trains on it (environment, LLM samples, reward model)."""
