# Preflight: `snakemake preflight --configfile config/paper.yaml --config ...` checks the node it
# runs on (the GPU, free disk for models and checkpoints, the models, the corpus roots) and
# reports every problem at once (asrser.runtime.preflight). It is a GPU job like a training (the Slurm
# profile submits it to a GPU node). Without input or output files it runs each time it is asked
# for and never as part of another target; its report goes to the log and to the terminal. A
# failing check fails the same way again, so it is not retried.


rule preflight:
    log:
        "logs/preflight.log",
    retries: 0
    conda:
        ENV
    threads: 1
    resources:
        gpu=config["resources"]["gpu"],
        mem_mb=4000,
        runtime=15,
    params:
        layout=preflight_layout,
        fetch_command=fetch_command(),
    script:
        "../workflow/scripts/preflight.py"
