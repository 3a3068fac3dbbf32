"""mbc-navigator: what public patient-information pages say about targeted and immunotherapy drugs for secondary
breast cancer, as a cited knowledge base and a three-valued eligibility engine.

Data flow: sources (the pages) -> knowledge (reviewed YAML) -> rules (criteria language) -> profile -> engine
-> interfaces (cli).
"""

__version__ = "0.1.0"
