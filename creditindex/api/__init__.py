"""The HTTP API (``creditindex serve``) for e-bidding platforms: eligibility checks with
certificates, tender credit points, subject profiles, index history and rankings."""
