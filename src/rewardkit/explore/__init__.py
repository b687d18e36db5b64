"""rewardkit.explore"""
