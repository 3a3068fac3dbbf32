"""The knowledge base: reviewed YAML data, validated at load, every statement cited."""

from mbc_navigator.knowledge.loader import KnowledgeBase, KnowledgeError, default_knowledge, load

__all__ = ["KnowledgeBase", "KnowledgeError", "default_knowledge", "load"]
