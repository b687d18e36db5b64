"""rewardkit.integrations"""
