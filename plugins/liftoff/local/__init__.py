"""The local runtime: what runs the platform on one machine (the embedded default). Production
code never imports it."""
