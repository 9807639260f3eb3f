"""Guest feedback (GUEST-10): thumbs up/down with a note, NPS 0-10, summaries for admins."""
