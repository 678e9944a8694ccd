"""Shared bits of the ``python -m`` commands of every package: ``--help`` that shows defaults, and bad arguments
reported on one line.

Every package may import ``envs`` (``../shared/DESIGN.md``), so the commands of ``envs``, ``episodes``,
``perception``, ``agent`` and ``bench`` share this one formatter.
"""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with each option's default appended as "(default: ...)", except where the default is None or
    False: there the option's help says what leaving it out means, and "(default: None)" would say nothing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS:
            return action.help or ""
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with :class:`HelpFormatter` by default and bad arguments reported on one line
    (``prog: error: message (see prog --help)``, exit status 2) instead of the usage block and the message."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
