"""The ``pql`` command line: a thin shell over the library.

Each subcommand lives in its own module and is imported only when it runs, so ``pql lint`` in a
pre-commit hook does not pay for the interpreter or the language server.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from typing import Any, NoReturn

import click

#: subcommand name -> "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "parse": "pqltools.cli.parse_cmd:parse_command",
    "format": "pqltools.cli.format_cmd:format_command",
    "convert": "pqltools.cli.format_cmd:convert_command",
    "lint": "pqltools.cli.lint_cmd:lint_command",
    "rules": "pqltools.cli.lint_cmd:rules_command",
    "rule": "pqltools.cli.lint_cmd:rule_command",
    "classify": "pqltools.cli.classify_cmd:classify_command",
    "eval": "pqltools.cli.eval_cmd:eval_command",
    "lsp": "pqltools.cli.lsp_cmd:lsp_command",
    "job": "pqltools.cli.job_cmd:job_command",
    "export": "pqltools.cli.export_cmd:export_command",
    "preview": "pqltools.cli.preview_cmd:preview_command",
    "estimate": "pqltools.cli.preview_cmd:estimate_command",
    "stream": "pqltools.cli.stream_cmd:stream_command",
}


class _LazyGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run a subcommand; output that cannot be written (a full disk) is an error, exit 2.

        (A closed pipe, as in ``pql ... | head``, is left to click: it exits quietly.)
        """
        try:
            return super().main(*args, **kwargs)
        except OSError as exc:
            if exc.errno not in _WRITE_ERRORS:
                raise
            _cannot_write(exc)
        finally:
            try:
                sys.stdout.flush()
            except OSError as exc:
                _cannot_write(exc)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command: Any = getattr(importlib.import_module(module), attr)
        return command  # type: ignore[no-any-return]


#: Errors of a write that no retry will fix.
_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EPIPE})


def _cannot_write(exc: OSError) -> NoReturn:
    if exc.errno != errno.EPIPE:  # a reader that went away needs no message
        try:
            sys.stderr.write(f"pql: error: cannot write the output: {exc.strerror or exc}\n")
            sys.stderr.flush()
        except OSError:
            pass
    code = 1 if exc.errno == errno.EPIPE else 2
    if sys.stdout is sys.__stdout__:
        # the buffered output can never be written: leave without the interpreter retrying
        # (and failing) at exit
        os._exit(code)
    sys.exit(code)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pqltools", prog_name="pql")
def main() -> None:
    """pqltools: check, format, classify and evaluate PQL segment definitions offline."""
