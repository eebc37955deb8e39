"""Discovery: prospect companies found through the web-search and page sources, classified for intent, reviewed."""
