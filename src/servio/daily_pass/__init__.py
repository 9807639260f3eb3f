"""The daily pass (GUEST-04): a word rotated at 04:00 outlet time that guests enter
before ordering."""
