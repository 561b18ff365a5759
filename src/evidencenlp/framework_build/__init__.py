"""Deterministic builders that turn the seed documents into ``frameworks/*.yaml``.

Each builder is a pure function ``build(seeds_dir: Path) -> dict`` returning a framework
document that validates against ``schemas/framework.schema.json``. :func:`build_all`
(in :mod:`evidencenlp.framework_build.run`) writes them with :func:`common.dump_yaml`.
"""
