# Evaluation stage: every trained model on the seven test conditions (420 evaluations per seed).
# How evaluations are packed into jobs is one config key (evaluation.jobs; `auto` is resolved for
# the run in common.smk, asrser.evaluation.packing); every packing writes the same 420 outputs.


if config["evaluation"]["jobs"] == "per_model":

    rule evaluate_model:
        input:
            model="results/models/{model}-{train}{run_tag}/{fold}/model",
            manifests=expand(
                "results/data/folds/{{fold}}/test_{condition}.csv",
                condition=TEST_CONDITIONS,
            ),
            bert=bert_input,
        output:
            predictions=expand(
                "results/eval/{{model}}-{{train}}{{run_tag}}/{{fold}}/{condition}/predictions.csv",
                condition=TEST_CONDITIONS,
            ),
            metrics=expand(
                "results/eval/{{model}}-{{train}}{{run_tag}}/{{fold}}/{condition}/metrics.json",
                condition=TEST_CONDITIONS,
            ),
        log:
            expand(
                "logs/eval/{{model}}-{{train}}{{run_tag}}/{{fold}}/{condition}.log",
                condition=TEST_CONDITIONS,
            ),
        conda:
            ENV
        threads: job_resources("evaluate")["threads"]
        resources:
            gpu=config["resources"]["gpu"],
            mem_mb=job_resources("evaluate")["mem_mb"],
            runtime=job_resources("evaluate")["runtime"],
        params:
            conditions=TEST_CONDITIONS,
            hparams=config["evaluation"],
            device=config["device"],
        script:
            "../workflow/scripts/evaluate.py"

elif config["evaluation"]["jobs"] == "per_fold":

    # One job per fold and seed: its six models on the seven conditions.
    rule evaluate_fold:
        input:
            models=fold_models(),
            manifests=expand(
                "results/data/folds/{{fold}}/test_{condition}.csv",
                condition=TEST_CONDITIONS,
            ),
            bert=joint_bert_input,
        output:
            predictions=fold_eval_outputs("predictions.csv"),
            metrics=fold_eval_outputs("metrics.json"),
        log:
            fold_eval_logs(),
        wildcard_constraints:
            run_tag=SEED_TAG,
        conda:
            ENV
        threads: job_resources("evaluate")["threads"]
        resources:
            gpu=config["resources"]["gpu"],
            mem_mb=job_resources("evaluate")["mem_mb"],
            runtime=job_resources("evaluate")["runtime"],
        params:
            conditions=TEST_CONDITIONS,
            hparams=config["evaluation"],
            device=config["device"],
        script:
            "../workflow/scripts/evaluate.py"

    # The alpha sweep's: one job per fold, alpha and seed, its two joint models.
    rule evaluate_fold_sweep:
        input:
            models=fold_models(["joint"]),
            manifests=expand(
                "results/data/folds/{{fold}}/test_{condition}.csv",
                condition=TEST_CONDITIONS,
            ),
            bert=joint_bert_input,
        output:
            predictions=fold_eval_outputs("predictions.csv", ["joint"]),
            metrics=fold_eval_outputs("metrics.json", ["joint"]),
        log:
            fold_eval_logs(["joint"]),
        wildcard_constraints:
            run_tag=ALPHA_TAG,
        conda:
            ENV
        threads: job_resources("evaluate")["threads"]
        resources:
            gpu=config["resources"]["gpu"],
            mem_mb=job_resources("evaluate")["mem_mb"],
            runtime=job_resources("evaluate")["runtime"],
        params:
            conditions=TEST_CONDITIONS,
            hparams=config["evaluation"],
            device=config["device"],
        script:
            "../workflow/scripts/evaluate.py"

else:

    rule evaluate_condition:
        input:
            model="results/models/{model}-{train}{run_tag}/{fold}/model",
            manifests="results/data/folds/{fold}/test_{condition}.csv",
            bert=bert_input,
        output:
            predictions="results/eval/{model}-{train}{run_tag}/{fold}/{condition}/predictions.csv",
            metrics="results/eval/{model}-{train}{run_tag}/{fold}/{condition}/metrics.json",
        log:
            "logs/eval/{model}-{train}{run_tag}/{fold}/{condition}.log",
        conda:
            ENV
        threads: job_resources("evaluate")["threads"]
        resources:
            gpu=config["resources"]["gpu"],
            mem_mb=job_resources("evaluate")["mem_mb"],
            runtime=job_resources("evaluate")["runtime"],
        params:
            conditions=single_condition,
            hparams=config["evaluation"],
            device=config["device"],
        script:
            "../workflow/scripts/evaluate.py"


# What the fine-tuning starts from: the encoder's own transcripts of the clean corpus.
rule score_start_encoder:
    input:
        encoder=encoder_input,
        manifest="results/data/corpora/clean.csv",
    output:
        predictions="results/start_encoder/clean_predictions.csv",
        metrics=report(
            "results/tables/start_encoder_wer.json",
            caption="../workflow/captions/start_encoder.rst",
            category="Tables",
        ),
    log:
        "logs/eval/start_encoder.log",
    conda:
        ENV
    threads: job_resources("evaluate")["threads"]
    resources:
        gpu=config["resources"]["gpu"],
        mem_mb=job_resources("evaluate")["mem_mb"],
        runtime=job_resources("evaluate")["runtime"],
    params:
        encoder=ENCODER.path,
        device=config["device"],
        max_batch_seconds=config["evaluation"]["max_batch_seconds"],
    script:
        "../workflow/scripts/score_start_encoder.py"
