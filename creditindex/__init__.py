"""creditindex: the public-resource-trading credit index engine (公共资源交易信用指数).

Penalty records from every regulator and region, a rule set regulators own, and a pure
engine that turns them into a daily, deduct-only index, grade and restriction for every
bidder, agent, tenderer and expert (一处受罚、处处受制).
"""

__version__ = "0.1.0"
