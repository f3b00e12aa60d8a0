"""The node a job runs on: device, hub models, disk, checkpoint root, preflight, Snakemake's command line."""
