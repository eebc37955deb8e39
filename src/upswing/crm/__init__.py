"""CRM integration: signals pushed into HubSpot and Salesforce, and what the team does there synced back."""
