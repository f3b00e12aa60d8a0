# Data stage: corpus ingestion, noisy corpora and fold manifests.


if config["synthetic"]["enabled"]:

    rule synth_corpus:
        output:
            iemocap=directory(config["iemocap_root"]),
            musan=directory(config["musan_root"]),
        log:
            "logs/data/synth_corpus.log",
        conda:
            ENV
        threads: 2
        resources:
            mem_mb=2000,
            runtime=30,
        params:
            synthetic=synthetic_settings(
                "seed",
                "utterances_per_emotion",
                "musan_files_per_type",
                "musan_file_seconds",
            ),
        script:
            "../workflow/scripts/synth_corpus.py"


rule ingest_iemocap:
    input:
        root=config["iemocap_root"],
    output:
        manifest="results/data/iemocap.csv",
        summary="results/data/iemocap_summary.json",
    log:
        "logs/data/ingest_iemocap.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        **corpus_stamp_params("iemocap_root"),
        speakers=FOLDS,
        merge_exc=config["data"]["merge_exc_into_hap"],
    script:
        "../workflow/scripts/ingest_iemocap.py"


rule ingest_musan:
    input:
        root=config["musan_root"],
    output:
        manifest="results/data/musan.csv",
        summary="results/data/musan_summary.json",
        converted=directory("results/data/musan_16k"),
    log:
        "logs/data/ingest_musan.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        **corpus_stamp_params("musan_root"),
        seed=config["data"]["seed"],
        test_fraction=config["data"]["musan_test_fraction"],
    script:
        "../workflow/scripts/ingest_musan.py"


rule mix_corpus:
    input:
        iemocap="results/data/iemocap.csv",
        musan="results/data/musan.csv",
    output:
        manifest="results/data/corpora/{corpus}.csv",
        audio=directory("results/data/corpora/{corpus}"),
    log:
        "logs/data/mix_corpus/{corpus}.log",
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        seed=config["data"]["seed"],
        snr_range=config["data"]["train_snr_db"],
        babble_talkers=config["data"]["babble_talkers"],
        audio_format=config["data"]["audio_format"],
    script:
        "../workflow/scripts/mix_corpus.py"


rule make_fold:
    input:
        iemocap="results/data/iemocap.csv",
        corpora=corpus_manifests(),
    output:
        manifests=expand("results/data/folds/{{fold}}/{name}.csv", name=FOLD_MANIFESTS),
    log:
        "logs/data/make_fold/{fold}.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        seed=config["data"]["seed"],
        valid_fraction=config["data"]["valid_fraction"],
    script:
        "../workflow/scripts/make_fold.py"
