"""rewardkit.shaping"""
