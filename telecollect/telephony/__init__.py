"""Telephony: calls placed through Twilio Voice (bridge mode), agents' phones and their states."""
