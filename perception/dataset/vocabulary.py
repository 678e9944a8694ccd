"""The class vocabulary of exported datasets: every AI2-THOR object type of ``envs.ontology``, sorted, ids 1..N.

Structure (walls, floor, ceiling) is not an object type in metadata and is left out, as ODIN's AI2-THOR evaluation skips
Wall and Floor (``ayushjain1144/odin`` at 9c67a0b: ``SKIP_CLASSES`` in ``scripts/ai2thor/ai2thor_resnet.sh``); id 0
means "no object" in instance and semantic maps.
"""

from __future__ import annotations

from functools import lru_cache

from envs.ontology import load_ontology


@lru_cache(maxsize=1)
def class_vocabulary() -> tuple[str, ...]:
    """Object type names, sorted; the class id of ``names[i]`` is ``i + 1``."""
    return tuple(load_ontology().names)


def class_ids(vocabulary: tuple[str, ...] | list[str] | None = None) -> dict[str, int]:
    """{type name: class id (1-based)} for ``vocabulary`` (default: :func:`class_vocabulary`)."""
    names = class_vocabulary() if vocabulary is None else vocabulary
    return {name: index + 1 for index, name in enumerate(names)}
