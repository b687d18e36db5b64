"""rewardkit.verify"""
