"""The conversational core shared by the Rasa server, the action server and the live-agent service."""
