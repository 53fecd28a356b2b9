"""Configuration options (oslo.config), registered once and listed for the sample generator."""
