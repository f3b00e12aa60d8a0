# Demo encoder: a small wav2vec2-family CTC model pretrained on a separate synthetic corpus
# (other voices, other sentences), as the paper starts from an encoder that is already an ASR model.
# With a hub model (config/paper.yaml) these rules are absent and the encoder is downloaded.


if config["encoder"]["pretrain_demo"]:

    rule synth_pretrain_corpus:
        output:
            directory("resources/synthetic/pretrain"),
        log:
            "logs/pretrain/synth_pretrain_corpus.log",
        conda:
            ENV
        threads: 2
        resources:
            mem_mb=2000,
            runtime=30,
        params:
            synthetic=synthetic_settings("seed", "pretrain_utterances"),
        script:
            "../workflow/scripts/synth_pretrain_corpus.py"

    rule pretrain_encoder:
        input:
            corpus="resources/synthetic/pretrain",
        output:
            directory(config["encoder"]["name_or_path"]),
        log:
            "logs/pretrain/pretrain_encoder.log",
        conda:
            ENV
        threads: 2
        resources:
            mem_mb=4000,
            runtime=30,
            gpu=config["resources"]["gpu"],
        params:
            hparams=config["pretrain"],
            checkpoint_dir=PRETRAIN_CHECKPOINTS,
            device=config["device"],
        script:
            "../workflow/scripts/pretrain_encoder.py"
