"""repost: a static-site generator for repost curation."""

__version__ = "0.1.0"
