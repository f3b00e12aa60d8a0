# Results stage: pool the ten folds' predictions, score, test significance, render Table 1,
# Fig. 2 and the analyses the paper left out. `snakemake --report results/report.html` gathers them.


rule aggregate:
    input:
        predictions=eval_outputs("predictions.csv"),
        paper_table1=PAPER_TABLE1,
    output:
        **seed_table_outputs(),
        metrics="results/tables/metrics.csv",
        per_fold="results/tables/per_fold.csv",
        significance=report(
            "results/tables/significance.csv",
            caption="../workflow/captions/significance.rst",
            category="Tables",
        ),
        confusion="results/tables/confusion.csv",
        table1_csv="results/tables/table1.csv",
        table1_md=report(
            "results/tables/table1.md",
            caption="../workflow/captions/table1.rst",
            category="Tables",
        ),
        table1_tex="results/tables/table1.tex",
        table1_vs_paper_md=report(
            "results/tables/table1_vs_paper.md",
            caption="../workflow/captions/table1_vs_paper.rst",
            category="Tables",
        ),
        fig2a_asr_png=report(
            "results/figures/fig2a_asr.png",
            caption="../workflow/captions/fig2a.rst",
            category="Fig. 2",
        ),
        fig2a_asr_pdf="results/figures/fig2a_asr.pdf",
        fig2b_ser_png=report(
            "results/figures/fig2b_ser.png",
            caption="../workflow/captions/fig2b.rst",
            category="Fig. 2",
        ),
        fig2b_ser_pdf="results/figures/fig2b_ser.pdf",
        per_fold_png=report(
            "results/figures/per_fold.png",
            caption="../workflow/captions/per_fold.rst",
            category="Beyond the paper",
        ),
        per_fold_pdf="results/figures/per_fold.pdf",
        per_fold_gain_png=report(
            "results/figures/per_fold_gain.png",
            caption="../workflow/captions/per_fold_gain.rst",
            category="Beyond the paper",
        ),
        per_fold_gain_pdf="results/figures/per_fold_gain.pdf",
        confusion_ser_png=report(
            "results/figures/confusion_ser.png",
            caption="../workflow/captions/confusion.rst",
            category="Beyond the paper",
        ),
        confusion_ser_pdf="results/figures/confusion_ser.pdf",
        confusion_joint_png=report(
            "results/figures/confusion_joint.png",
            caption="../workflow/captions/confusion.rst",
            category="Beyond the paper",
        ),
        confusion_joint_pdf="results/figures/confusion_joint.pdf",
        # metrics_over_seeds.csv where train.seeds holds several seeds; with one seed the
        # outputs are those of a single run.
    log:
        "logs/report/aggregate.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        bootstrap_resamples=config["report"]["bootstrap_resamples"],
        seed=config["report"]["seed"],
        alpha=config["report"]["alpha"],
    script:
        "../workflow/scripts/aggregate.py"


# Beyond the paper: the joint model with reference transcripts in place of its own hypotheses.
rule text_oracle:
    input:
        text_oracle_inputs,
        bert=joint_bert_input,
    output:
        csv="results/tables/joint_text_oracle.csv",
        md=report(
            "results/tables/joint_text_oracle.md",
            caption="../workflow/captions/text_oracle.rst",
            category="Beyond the paper",
        ),
    log:
        "logs/report/text_oracle.log",
    conda:
        ENV
    threads: job_resources("evaluate")["threads"]
    resources:
        gpu=config["resources"]["gpu"],
        mem_mb=job_resources("evaluate")["mem_mb"],
        runtime=job_resources("evaluate")["runtime"],
    params:
        runs=text_oracle_runs(),
        device=config["device"],
        max_batch_seconds=config["evaluation"]["max_batch_seconds"],
    script:
        "../workflow/scripts/text_oracle.py"


# `snakemake alpha_sweep` (not part of the default target): the joint model at each alpha of
# config key alpha_sweep.alphas, every fold, training condition and seed; the configured alpha's
# point is the main run's joint models. WER and accuracy against alpha, clean and pooled noisy.
rule alpha_sweep:
    input:
        predictions=alpha_sweep_predictions,
    output:
        csv="results/tables/alpha_sweep.csv",
        md=report(
            "results/tables/alpha_sweep.md",
            caption="../workflow/captions/alpha_sweep.rst",
            category="Beyond the paper",
        ),
        png=report(
            "results/figures/alpha_sweep.png",
            caption="../workflow/captions/alpha_sweep.rst",
            category="Beyond the paper",
        ),
        pdf="results/figures/alpha_sweep.pdf",
    log:
        "logs/report/alpha_sweep.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        alphas=config["alpha_sweep"]["alphas"],
        configured_alpha=configured_alpha_param,
        bootstrap_resamples=config["report"]["bootstrap_resamples"],
        seed=config["report"]["seed"],
        significance_level=config["report"]["alpha"],
    script:
        "../workflow/scripts/alpha_sweep.py"
