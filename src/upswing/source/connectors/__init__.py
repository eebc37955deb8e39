"""Built-in connectors: importing this package registers each one (one subpackage per external service)."""

from upswing.source.connectors import apify_linkedin as apify_linkedin
from upswing.source.connectors import apify_linkedin_posts as apify_linkedin_posts
from upswing.source.connectors import company_domain as company_domain
from upswing.source.connectors import file_replay as file_replay
from upswing.source.connectors import firecrawl_about as firecrawl_about
from upswing.source.connectors import rss as rss
from upswing.source.connectors import web_page as web_page

__all__ = ["apify_linkedin", "apify_linkedin_posts", "company_domain", "file_replay", "firecrawl_about", "rss",
           "web_page"]
