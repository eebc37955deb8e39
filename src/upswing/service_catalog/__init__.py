"""The services catalog: the team's programs and offers, who they are for (eligibility), what needs they meet."""
