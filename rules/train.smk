# Training stage: {asr, ser, joint} x {clean, noisy} x folds x seeds, and the alpha sweep's joint
# runs. {run_tag} is "" for the main run (seed 0), else -seed{s}, -alpha{a}, -alpha{a}-seed{s}.


rule train_model:
    input:
        train="results/data/folds/{fold}/train_{train}.csv",
        valid="results/data/folds/{fold}/valid_{train}.csv",
        encoder=encoder_input,
        bert=bert_input,
    output:
        model=directory("results/models/{model}-{train}{run_tag}/{fold}/model"),
        history="results/models/{model}-{train}{run_tag}/{fold}/history.csv",
        curves=report(
            "results/models/{model}-{train}{run_tag}/{fold}/curves.png",
            caption="../workflow/captions/curves.rst",
            category="Training curves",
            subcategory="{model}-{train}{run_tag}",
            labels={
                "model": "{model}",
                "train": "{train}",
                "run": "{model}-{train}{run_tag}",
                "fold": "{fold}",
            },
        ),
    log:
        "logs/train/{model}-{train}{run_tag}/{fold}.log",
    conda:
        ENV
    threads: job_resources("train")["threads"]
    resources:
        gpu=config["resources"]["gpu"],
        mem_mb=job_resources("train")["mem_mb"],
        runtime=job_resources("train")["runtime"],
    # The resume points go to <config checkpoint_root>/{model}-{train}{run_tag}/{fold}, a folder the
    # script takes from the config, not from params (a moved root must not rerun trainings).
    params:
        encoder=ENCODER.path,
        bert=bert_settings,
        hparams=train_hparams,
        device=config["device"],
        max_utterance_seconds=config["data"]["max_utterance_seconds"],
    script:
        "../workflow/scripts/train_model.py"
