# Models stage: the hub encoder and BERT fetched once, on the machine running Snakemake, into
# config key models_dir (one job per model), before any training or evaluation job, which all
# load from there offline. Local folders and "package:" models need no fetch, and the embedded
# default has none to fetch. `snakemake fetch_models --configfile ...` fills the folders alone.
#
# Snakemake removes a job's output before running it. A folder filled by hand has no record of
# a job, so nothing reruns it; with the hub offline the rule is left out altogether, so that no
# rerun can remove a folder it cannot fetch again (the plan checked that the folders are there
# and complete). The job runs inline (run:) rather than as a script: a script's file time is
# itself a rerun trigger, and a checkout that touches it must not fetch and retrain everything.


if HUB_MODELS and not hub_offline():

    rule fetch_model:
        output:
            directory(os.path.join(config["models_dir"], "{hub_id}")),
        log:
            "logs/models/{hub_id}.log",
        wildcard_constraints:
            hub_id="|".join(re.escape(model.hub_id) for model in HUB_MODELS),
        localrule: True
        threads: 1
        resources:
            mem_mb=2000,
            runtime=120,
        params:
            revision=hub_revision,
            key=hub_key,
        run:
            fetch_logged(
                wildcards.hub_id, output[0], params.revision, params.key, log[0]
            )


rule fetch_models:
    input:
        [model.path for model in HUB_MODELS],
    localrule: True
