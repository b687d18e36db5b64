"""rewardkit.tabular"""
