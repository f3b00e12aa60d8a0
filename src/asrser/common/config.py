"""Configuration: JSON-schema validation with defaults, then checks the schema cannot express.

The workflow calls `validate_config` while parsing the Snakefile, so a bad config fails before any
job starts, with a message naming the key and what was expected.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

from asrser import MODEL_TYPES

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
            from asrser.common.corpus_roots import check_corpus_roots, check_synthetic_roots

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
        from asrser.common.model_names import check_model_name  # (it imports ConfigError)

        if not config["encoder"]["pretrain_demo"]:  # otherwise the workflow writes that folder
            check_model_name("encoder.name_or_path", config["encoder"]["name_or_path"])

    def bert() -> None:
        from asrser.common.model_names import check_model_name

        check_model_name("bert.name_or_path", config["bert"]["name_or_path"])

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
    # Which runs to train (asrser.common.run_plan), not a training setting.
    values.pop("seeds", None)
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
