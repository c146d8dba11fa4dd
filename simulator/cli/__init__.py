"""The ``ltsim`` command line: parse, call :mod:`ltsim.api`, report.

Every error of every command, click's own usage errors included, is one line
``ltsim: error: <key>: <rule>, got <value>`` on stderr with exit code 2 (bad input, nothing
written) or 1 (a run-time failure); an interrupted run exits 130. Heavy modules are imported
inside the commands so that ``ltsim --help`` starts fast.
"""

from __future__ import annotations

import difflib
import os
import signal
import sys

import click

from .. import __version__
from ..api.errors import Problem
from ..util.errors import ConfigError

EXIT_CODES = """\b
Exit codes: 0 success; 1 a run that failed at run time; 2 usage or config error;
130 interrupted (Ctrl-C or SIGTERM)."""


def _click_message(exc: click.ClickException) -> str:
    """One line for one of click's own errors, in ltsim's ``key: rule, got value`` form."""
    if isinstance(exc, click.NoSuchOption):
        close = difflib.get_close_matches(exc.option_name, exc.possibilities or [], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"{exc.option_name}: unknown option{hint}"
    if isinstance(exc, click.MissingParameter) and exc.param is not None:
        name = _param_name(exc.param)
        kind = "argument" if isinstance(exc.param, click.Argument) else "option"
        return f"{name}: required {kind} is missing"
    if isinstance(exc, click.BadParameter) and exc.param is not None:
        message = exc.message
        if isinstance(exc.param.type, click.Path) or "does not exist" in message:
            message = message.replace("\n", " ")
        return f"{_param_name(exc.param)}: {message}"
    if isinstance(exc, click.BadOptionUsage):
        return f"{exc.option_name}: {exc.message}"
    if isinstance(exc, click.UsageError) and exc.message.startswith("No such command"):
        name = exc.message.split("'")[1] if "'" in exc.message else exc.message
        commands = ", ".join(sorted(main.commands))
        return f"{name}: unknown command (one of {commands})"
    return " ".join(exc.format_message().split())


def _param_name(param: click.Parameter) -> str:
    if isinstance(param, click.Argument):
        return param.human_readable_name
    return max(param.opts, key=len)


class Interrupted(Exception):
    """Ctrl-C or SIGTERM stopped a command before it could finish (exit 130)."""


class LtsimGroup(click.Group):
    """A click group that reports every failure in one ``ltsim: error:`` line."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # click's own handling would print an empty line first
            raise Interrupted from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        process = args is None  # the command of this process (not a test's invocation)
        args = list(sys.argv[1:] if args is None else args)
        from ..api.signals import interrupts
        from ..io import provenance

        try:
            with provenance.command(args), interrupts():  # one Ctrl-C stops a command
                code = super().main(args, prog_name or "ltsim", complete_var,
                                    standalone_mode=False, **extra)
        except Problem as exc:
            click.echo(f"ltsim: error: {' '.join(str(exc).split())}", err=True)
            code = exc.exit_code
        except ConfigError as exc:  # a config the library refused: bad input
            click.echo(f"ltsim: error: {' '.join(str(exc).split())}", err=True)
            code = 2
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else self.get_help(click.Context(self)))
            code = 0
        except click.ClickException as exc:
            click.echo(f"ltsim: error: {_click_message(exc)}", err=True)
            code = 2
        except (click.Abort, KeyboardInterrupt, Interrupted):
            click.echo("ltsim: interrupted", err=True)
            code = 130
        except Exception as exc:  # a bug: one line (LTSIM_DEBUG=1 shows the traceback)
            if os.environ.get("LTSIM_DEBUG"):
                raise
            gist = " ".join(str(exc).split())[:300]
            click.echo(f"ltsim: error: internal error ({type(exc).__name__}: {gist}); rerun "
                       "with LTSIM_DEBUG=1 for the traceback", err=True)
            code = 1
        code = code if isinstance(code, int) else 0
        if process:  # the work is done: a late Ctrl-C must not change the exit code
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(cls=LtsimGroup, epilog=EXIT_CODES,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ltsim")
def main() -> None:
    """Tail latency and cost of coded distributed non-linear computations.

    \b
    Example:
      ltsim run configs/exp02.yaml && ltsim plot results/exp02
    """


from .execute import execute, fit  # noqa: E402
from .results import plot, show  # noqa: E402
from .run import run, sweep, validate  # noqa: E402

for _command in (run, sweep, validate, show, plot, execute, fit):
    main.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    main()
