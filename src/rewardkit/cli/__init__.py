"""The ``rewardkit`` command line."""
