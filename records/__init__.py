"""The public-records domain: requests, departments, gathered items, clerk decisions, packets,
metrics, web pages and the API."""
