"""The kitchen display at /kds (one station's tickets, bump and recall) and the expo screen
at /kds/expo (every station's cooking and ready tickets, `P` picks the oldest ready one)."""
