"""The corpus roots (iemocap_root, musan_root): checked before the workflow writes into them
(synthetic corpus) or reads from them (the real corpora)."""

from __future__ import annotations

import os
from pathlib import Path

from asrser import SYNTHETIC_MARKER
from asrser.common.config import ConfigError


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
