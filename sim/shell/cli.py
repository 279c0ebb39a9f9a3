"""The command-line front door of every command: one helper, `run_command`.

`.venv/bin/drama run`, `.venv/bin/drama sweep` and `.venv/bin/drama calibrate`
(and any later command) declare a `Command`: its primary config, the checks
made before anything is written, and the task. `run_command` then does, in
this order and the same way for all of them:

1. refuse what Hydra would misread or let through (an unknown key added with
   `+`, an override without `=`, a value Hydra cannot lex, a number for a config
   group, an empty or non-folder `hydra.run.dir`, `--config-path`/`--config-name`),
   and read `--config-dir DIR` (a private config library, added to the search
   path; its YAML is checked file by file);
2. compose the config with the overrides (every job of a `-m` multirun) and
   validate it, so bad input exits 2 with one line naming the key and no folder;
3. run the task in Hydra's run folder; bad input found there still exits 2 and
   leaves no folder behind, and a closed pipe (`| head`) ends quietly.

With sim/shell/config.py this is the Hydra boundary: the commands themselves never import Hydra.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.shell.config import (CONFIG_DIR, compose_run, describe_error, register_resolvers, register_schemas,
                        unknown_key_message)
from sim.shell.folders import FolderLock, check_claim, claim, discard, remember_created
from sim.params import ParamError

# Flags after which Hydra does not run the task: nothing to check up front.
NOT_A_RUN = {"-h", "--help", "--hydra-help", "-c", "--cfg", "-i", "--info", "-p", "--package", "-sc",
             "--shell-completion", "--version"}
MULTIRUN = {"-m", "--multirun"}
CONFIG_DIR_FLAGS = ("--config-dir", "-cd")
REFUSED_FLAGS = {"--config-path": "the commands read configs/ (add a library with --config-dir DIR)",
                 "-cp": "the commands read configs/ (add a library with --config-dir DIR)",
                 "--config-name": "each command has its own primary config; choose a scenario with scenario=<name>",
                 "-cn": "each command has its own primary config; choose a scenario with scenario=<name>"}
# Every flag Hydra's command line takes (hydra/_internal/utils.py get_args_parser), besides key=value overrides.
KNOWN_FLAGS = NOT_A_RUN | MULTIRUN | set(CONFIG_DIR_FLAGS) | set(REFUSED_FLAGS) | {
    "--resolve", "--run", "-r", "--experimental-rerun"}
MAX_CHECKED_JOBS = 256


@dataclass(frozen=True)
class Command:
    """A command-line program: its primary config, its up-front checks and its task."""

    config_name: str  # primary config in configs/ (run, sweep, calibrate)
    validate: Callable[[DictConfig], object]  # raises ParamError on bad input; runs before any folder exists
    task: Callable[[DictConfig, Path], None]  # the work, given the composed config and Hydra's run folder
    register: Callable[[], None] | None = None  # stores the command's own schemas (with `store_schema`)
    # Keys a user types that Hydra would take for a config group (`city=...`: configs/city/ is one), and the
    # config keys they stand for.
    aliases: tuple[tuple[str, str], ...] = ()
    help: Callable[[], str] | None = None  # the command's --help page (sim/shell/help.py); Hydra's is --hydra-help


def fail(message: str) -> None:
    """Print a one-line error and exit with code 2 (bad input)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def quiet_library_logs() -> None:
    """Keep Mesa (a line per step at INFO), Dask's and Optuna's chatter off the console of the commands."""
    import logging

    for name in ("MESA", "distributed", "optuna"):
        logging.getLogger(name).setLevel(logging.WARNING)


def store_schema(name: str, node: type, group: str | None = None, package: str | None = None) -> None:
    """Put a schema dataclass into Hydra's ConfigStore (for commands that add their own)."""
    ConfigStore.instance().store(name=name, node=node, group=group, package=package)


def run_command(command: Command, argv: list[str] | None = None) -> None:
    """Check the command line, compose and validate, then run the task in its own folder."""
    import hydra

    argv = [_unalias(a, dict(command.aliases)) for a in (sys.argv[1:] if argv is None else argv)]
    if command.help is not None and any(a in ("-h", "--help") for a in argv):
        print(command.help())
        return
    quiet_library_logs()
    register_schemas()
    if command.register is not None:
        command.register()
    register_resolvers()
    with quiet_broken_pipe():
        check_results_dir()
        library = check_command_line(argv)
        check_overrides(argv, command.config_name, command.validate, library)
        existed = _existing_run_dirs(argv)
        stop_cleanly_on_term()

        def task(cfg: DictConfig) -> None:
            quiet_library_logs()  # Hydra has configured logging by now
            from hydra.core.hydra_config import HydraConfig

            out = Path(HydraConfig.get().runtime.output_dir)
            if out.absolute() not in existed and not any(out.iterdir()):
                remember_created(out)  # Hydra made it for this command (it writes nothing in it: output_subdir null)
            with quiet_broken_pipe(), one_line_os_errors():
                try:
                    check_known_keys(cfg)
                    command.validate(cfg)
                    check_claim(out, command.config_name)  # before any write: a stranger's folder stays untouched
                    with FolderLock(out):
                        claim(out, command.config_name)
                        command.task(cfg, out)
                except ParamError as err:
                    discard(out)
                    fail(str(err))

        sys.argv = [sys.argv[0], *_expanded_config_dirs(argv)]
        hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name=command.config_name)(task)()


def _expanded_config_dirs(argv: list[str]) -> list[str]:
    """The command line with --config-dir's folder as an absolute path: a shell leaves `--config-dir=~/x` as typed
    (it expands `~` only at the start of a word), and Hydra would look for a folder named '~' in the project."""
    out, i = [], 0
    while i < len(argv):
        flag, eq, value = argv[i].partition("=")
        if flag in CONFIG_DIR_FLAGS and eq:
            out.append(f"{flag}={Path(value).expanduser().resolve()}")
        elif flag in CONFIG_DIR_FLAGS and i + 1 < len(argv):
            out += [flag, str(Path(argv[i + 1]).expanduser().resolve())]
            i += 1
        else:
            out.append(argv[i])
        i += 1
    return out


def stop_cleanly_on_term() -> None:
    """`kill -TERM` ends a command as Ctrl-C does: `finally` blocks run, so manifests say `interrupted` and worker
    processes are stopped (Python's default for SIGTERM ends the process on the spot)."""
    import threading

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def _existing_run_dirs(argv: list[str]) -> set[Path]:
    """The run folders named on the command line that exist already (made by someone else, never discarded)."""
    found = set()
    for arg in _overrides_of(argv):
        key, _, value = arg.partition("=")
        if key.lstrip("+") in ("hydra.run.dir", "hydra.sweep.dir") and value and Path(value).expanduser().exists():
            found.add(Path(value).expanduser().absolute())
    return found


def check_results_dir() -> None:
    """$DRAMA_RESULTS_DIR, when set, must be a folder (or a path where one can be made)."""
    value = os.environ.get("DRAMA_RESULTS_DIR")
    if value:
        check_folder_path("DRAMA_RESULTS_DIR", value)


def _unalias(arg: str, aliases: dict[str, str]) -> str:
    key, sep, value = arg.partition("=")
    return f"{aliases[key]}={value}" if sep and key in aliases else arg


@contextmanager
def quiet_broken_pipe() -> Iterator[None]:
    """A reader that stops early (`| head`) ends the command quietly: no traceback, exit 0."""
    try:
        yield
    except BrokenPipeError:
        # Python's recipe: point stdout at devnull so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(0) from None


@contextmanager
def one_line_os_errors() -> Iterator[None]:
    """A full disk or a folder that cannot be written: one line naming the file, exit 1 (files are atomic,
    so nothing half-written is left under a table's name; the run's manifest says `failed`)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as err:
        where = f" {err.filename}" if err.filename else ""
        print(f"error: cannot write{where}: {err.strerror or err}", file=sys.stderr)
        raise SystemExit(1) from None


# --------------------------------------------------------------------------- the command line


def check_command_line(argv: list[str]) -> list[Path]:
    """Refuse what Hydra would misread; return the private config libraries given with --config-dir."""
    library: list[Path] = []
    inspect_only = bool(NOT_A_RUN.intersection(argv))  # --cfg job, --help ...: Hydra prints and runs nothing
    i = 0
    while i < len(argv):
        arg = argv[i]
        flag, eq, value = arg.partition("=")
        if flag in REFUSED_FLAGS:
            fail(f"{flag}: not supported; {REFUSED_FLAGS[flag]}")
        if flag in CONFIG_DIR_FLAGS:
            if not eq:
                if i + 1 >= len(argv):
                    fail(f"{flag}: give a folder, as {flag}=DIR")
                value = argv[i + 1]
                i += 1
            if library:
                fail(f"{flag}: given twice; Hydra reads one private config library (put your groups in one folder)")
            library.append(check_library(flag, value))
        elif arg.startswith("-") and flag not in KNOWN_FLAGS:
            import difflib

            near = difflib.get_close_matches(flag, sorted(KNOWN_FLAGS), n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            fail(f"{arg}: not an option{hint}; the options are --help, --hydra-help, -m (a multirun), "
                 "--config-dir DIR and Hydra's --cfg job; everything else is key=value")
        elif not arg.startswith("-") and not inspect_only:
            check_override(arg)
        i += 1
    return library


def check_library(flag: str, value: str) -> Path:
    """A private config library: an existing folder of valid YAML that shadows no built-in config."""
    folder = Path(value).expanduser()
    if not folder.is_dir():
        fail(f"{flag}: {value!r} is not a folder; give a folder of config groups (e.g. DIR/scenario/mine.yaml)")
    folder = folder.resolve()
    for path in sorted(folder.rglob("*.yaml")):
        rel = path.relative_to(folder)
        try:
            yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            mark = getattr(err, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            problem = getattr(err, "problem", None) or type(err).__name__
            fail(f"{path}: not valid YAML{where}: {problem}")
        if (CONFIG_DIR / rel).exists():
            fail(f"{path}: has the name of the built-in configs/{rel}; rename it so it cannot be mistaken for it")
    return folder


def check_override(arg: str) -> None:
    """One `key=value` override: well formed, readable by Hydra, a file name for a config group, a real run folder."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if "=" not in arg and not arg.startswith("~"):
        fail(f"{arg!r}: not an override; write key=value (e.g. steps=24 or scenario=national)")
    if not arg.split("=", 1)[0].lstrip("+~"):
        fail(f"{arg!r}: no key before '='; write key=value (e.g. steps=24 or scenario=national)")
    try:
        parsed = OverridesParser.create().parse_overrides([arg])[0]
    except Exception:  # noqa: BLE001 - Hydra's lexer errors are not one class
        key = arg.split("=", 1)[0]
        fail(f"{arg!r}: Hydra cannot read this value; write {key}=value with letters, digits, '_', '-' and '.', "
             f"or quote it: {key}='...'")
    key = parsed.get_key_element().lstrip("+~")
    if key in ("hydra.run.dir", "hydra.sweep.dir"):
        check_folder_path(key, str(parsed.value()) if parsed.value() is not None else "")
    if key.startswith("city@"):
        check_city_package(key, parsed.value())
    group = key.split("@", 1)[0]
    if (CONFIG_DIR / group).is_dir() and not parsed.is_sweep_override() and not isinstance(parsed.value(), str):
        options = sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))
        fail(f"{key}: {parsed.value()!r} is not a file name; `{group}` is a config group, available: "
             f"{', '.join(options)}")


def check_folder_path(key: str, text: str) -> None:
    """A folder a command may write into: not empty text, not a file, not a broken link, under a writable folder."""
    if not text.strip():
        fail(f"{key}: empty; give a folder, e.g. {key}=results/my_run")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        fail(f"{key}: {text!r} is a file; give a folder")
    ancestor = path.absolute()
    while not ancestor.exists():
        if os.path.lexists(ancestor):
            fail(f"{key}: {str(ancestor)!r} is a symbolic link to nothing; give a real folder")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        fail(f"{key}: {str(ancestor)!r} is a file, so {text!r} cannot be made; give a folder")
    try:  # the only sure test that a folder can be made there (/proc, read-only mounts, permissions)
        os.rmdir(tempfile.mkdtemp(prefix=".drama-probe-", dir=ancestor))
    except OSError as err:
        fail(f"{key}: cannot make a folder in {str(ancestor)!r} ({err.strerror or err}); give a folder you can write to")


def check_city_package(key: str, value: object) -> None:
    """`+city@scenario.cities.<id>=<file>` must name the same city twice: a file composed under another city's id
    would silently turn that city into a copy of another."""
    package = key.split("@", 1)[1]
    if package.startswith("scenario.cities.") and isinstance(value, str) and package.rsplit(".", 1)[-1] != value:
        target = package.rsplit(".", 1)[-1]
        fail(f"{key}: composes configs/city/{value}.yaml as the city {target!r}, which would make {target!r} a copy "
             f"of {value!r}; add a city with +city@scenario.cities.{value}={value}")


def check_overrides(argv: list[str], config_name: str, validate: Callable[[DictConfig], object],
                    library: list[Path] | None = None) -> None:
    """Compose `config_name` with the command line's overrides and validate it before Hydra makes a folder.

    With -m every job of the sweep is checked (up to MAX_CHECKED_JOBS; past
    that, each swept value once). Any composition or validation error exits 2
    with one line naming the key.
    """
    if NOT_A_RUN.intersection(argv):
        return
    overrides = [a for a in _overrides_of(argv) if not a.lstrip("+~").startswith("hydra")]
    search = [f"hydra.searchpath=[{','.join(f'file://{p}' for p in library)}]"] if library else []
    own = [a for a in _overrides_of(argv) if a.lstrip("+~").startswith("hydra")]
    if own:  # Hydra's own settings (hydra.run.dir, hydra.verbose, ...): a misspelt one is one line, not a traceback
        for one in own:
            try:
                compose_run(search + [one], config_name=config_name, hydra_config=True)
            except Exception:  # noqa: BLE001
                fail(f"{one.split('=', 1)[0].lstrip('+~')}: not a Hydra setting these commands take; they take "
                     "hydra.run.dir=DIR (and hydra.sweep.dir=DIR with -m)")
    jobs = _sweep_jobs(overrides) if MULTIRUN.intersection(argv) else [overrides]
    for job in jobs:
        try:
            cfg = compose_run(search + job, config_name=config_name)
            check_known_keys(cfg)
            validate(cfg)
        except Exception as err:  # noqa: BLE001 - every composition/validation error becomes one line
            where = f" (in the job {' '.join(job)})" if len(jobs) > 1 else ""
            fail(describe_error(err) + where)


def _overrides_of(argv: list[str]) -> list[str]:
    """The `key=value` arguments, without flags and the values of flags that take one."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in CONFIG_DIR_FLAGS:
            skip = True
        elif not arg.startswith("-"):
            out.append(arg)
    return out


def check_known_keys(cfg: DictConfig, prefix: str = "") -> None:
    """Refuse keys the schemas do not have (Hydra lets `+key=value` add them, and they would be ignored)."""
    schema = OmegaConf.get_type(cfg)
    if dataclasses.is_dataclass(schema):
        allowed = {f.name for f in dataclasses.fields(schema)} | ({"hydra"} if not prefix else set())
        for key in cfg.keys():
            if key not in allowed:
                raise ParamError(f"{prefix}{key}", unknown_key_message(f"{prefix}{key}", sorted(allowed - {"hydra"})))
    for key in cfg.keys():
        if not prefix and key == "hydra":
            continue
        node = cfg._get_node(key)
        if isinstance(node, DictConfig) and not node._is_missing() and not node._is_none():
            check_known_keys(node, f"{prefix}{key}.")


def _sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """The override lists of a multirun's jobs (a, b = 1,2 -> four jobs)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as err:  # noqa: BLE001
        fail(describe_error(err))
    choices = []
    for o in parsed:
        if o.is_sweep_override():
            choices.append([f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([o.input_line])
    n_jobs = 1
    for c in choices:
        n_jobs *= len(c)
    if n_jobs <= MAX_CHECKED_JOBS:
        return [list(job) for job in itertools.product(*choices)]
    firsts = [c[0] for c in choices]  # too many to compose each: check every value once
    return [firsts[:i] + [v] + firsts[i + 1:] for i, c in enumerate(choices) for v in c]
