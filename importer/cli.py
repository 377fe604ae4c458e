"""Command line: options -> one library call -> exit code. No logic of its own.

Exit codes (the README): 0 all good, 1 some rows invalid or failed, 2 usage or
unreadable input (nothing sent), 3 stopped early (auth, scope, plan, store, interrupt).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import sys
import traceback
from pathlib import Path

from importer import __version__
from importer.errors import Code, ImporterError, UsageError
from importer.runs.streams import guarded_streams

PROG = "ecwid-contacts"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as every other usage error
        self.print_usage(sys.stderr)
        raise UsageError(message)


def _number(read, ok, expected: str):
    """An argparse type: the number `read` makes of the text if `ok` takes it, else "expected <expected>"."""

    def parse(text: str):
        try:
            value = read(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


def _digits(text: str) -> int | None:
    return int(text) if text.isdigit() else None  # no sign, no spaces, no 1e3


_positive_int = _number(_digits, lambda n: n > 0, "a positive integer")
_non_negative_int = _number(_digits, lambda n: True, "a non-negative integer")
_positive_float = _number(float, lambda x: x > 0, "a positive number")
_non_negative_float = _number(float, lambda x: 0 <= x < float("inf"), "a number of seconds, 0 or more")


IMPORT_EPILOG = """\
examples:
  ecwid-contacts import contacts.csv --sandbox                  # a trial on the built-in emulator
  ecwid-contacts import export.xlsx --dry-run                   # check a file; the report says what to fix
  ECWID_TOKEN=secret_… ecwid-contacts import contacts.csv --store-id 1003
  ecwid-contacts import hubspot.csv --match-by email --create-customers --phone-region US
  ecwid-contacts import reports/<run>/errors.csv --store-id 1003   # the fixed rows, as they are

expected columns (headers match ignoring case, spaces, _ and -):
  one contact per row:  Customer ID (or Customer Email), Type, Contact
                        [, Handle, Note, Default, Order, Timestamp]
  one customer per row: Customer ID (else the row's Email columns) and a column per
                        kind: Email, Phone, Mobile, WhatsApp, Telegram, Instagram, Facebook,
                        Twitter, TikTok, YouTube, Pinterest, VK, Viber, Website, …
  `ecwid-contacts columns FILE` shows how a file's headers map.

exit codes:
  0  every record created, skipped as already imported, or (dry run) valid
  1  some records invalid, failed or not created (report written)
  2  usage error or unreadable input: nothing was sent
  3  the run stopped early: token, scope, plan, store, or interrupted (report written;
     run the same command again to continue)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Import customer contacts from CSV/Excel files into Ecwid.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    imp = sub.add_parser("import", help="import contacts from files (or --dry-run to only check them)",
                         formatter_class=argparse.RawDescriptionHelpFormatter, epilog=IMPORT_EPILOG)
    imp.add_argument("files", nargs="+", metavar="FILE", help=".csv .tsv .txt .xlsx .xlsm .xls .ods")
    _target_arguments(imp, "journal of what was created (default: one per store in the user's data directory, "
                           "wherever the job starts)")
    imp.add_argument("--dry-run", action="store_true", help="load, normalize, validate and report; send nothing")
    imp.add_argument("--sandbox", action="store_true", help="import into an embedded local Ecwid emulator (no token, no network)")
    imp.add_argument("--sheet", action="append", default=[], metavar="NAME", help="sheet to read (repeatable; default every visible sheet)")
    imp.add_argument("--mapping", type=Path, metavar="FILE", help="header -> field mapping (JSON object or 2-column CSV)")
    imp.add_argument("--encoding", help="text encoding of CSV files (default: detected)")
    imp.add_argument("--delimiter", help="CSV delimiter: , ; | or tab (default: detected)")
    imp.add_argument("--phone-region", metavar="CC",
                     help="region for phone numbers without +country code, e.g. US, DE, where the row's country "
                          "is blank or the file has no country column")
    imp.add_argument("--country-column", metavar="COL",
                     help="the column holding each row's country (ISO code or name, e.g. DE, DEU, Germany, "
                          "Deutschland): its phones without +country code are read there. Default: a column named "
                          "like Country, Country/Region, Mailing Country, Land, Pays. Digits only (an Excel cell that "
                          "lost its + or 0): 4917112345678 in DE is +4917112345678, 4155550132 in US is "
                          "+14155550132; where the digits can't tell which number (34612345678 in DE: Spain or "
                          "03461 2345678) the row is invalid (phone-ambiguous). See the README")
    _pacing_arguments(imp)
    imp.add_argument("--timeout", type=_positive_float, metavar="S", help="seconds to wait for an answer (default 30)")
    imp.add_argument("--settle-window", type=_non_negative_float, metavar="S",
                     help="seconds after a request whose answer was lost before the store is checked for it (default 60)")
    imp.add_argument("--mode", choices=("direct", "batch"), default="direct",
                     help="direct: one request per contact (default); batch: Ecwid's batch API, up to 500 a request")
    imp.add_argument("--batch-size", type=_positive_int, default=500, metavar="N",
                     help="--mode batch: contacts per batch, at most 500 (default 500)")
    imp.add_argument("--batches-in-flight", type=_positive_int, metavar="N",
                     help="--mode batch: batches submitted ahead of the one Ecwid is running (default 4)")
    imp.add_argument("--batch-parallel", action="store_true",
                     help="--mode batch: let Ecwid run up to 100 of a batch's creates at once (allowParallelMode); "
                          "a customer's contacts may then be created in any order")
    imp.add_argument("--batch-timeout", type=_positive_float, metavar="S",
                     help="stop when a batch ticket makes no progress this long (default 300); its rows stay in doubt "
                          "under the ticket and the next run, direct or batch, polls it again before sending any of them")
    imp.add_argument("--no-journal", action="store_true", help="one-off run: don't read or write the journal (running it again creates everything again)")
    imp.add_argument("--skip-existing", action="store_true", help="accepted, no effect: a contact the customer already has is never created again "
                     "(same type and value; emails in any case): its row is skipped, exists-in-store")
    imp.add_argument("--customer-key", metavar="COLUMN", help="the column naming each row's customer by email (instead of Customer ID)")
    imp.add_argument("--match-by", choices=("id", "email"), default=None,
                     help="id: the ids are this store's, use them; email: find customers by their email (default: ids "
                          "where they are this store's, else the row's emails)")
    imp.add_argument("--preset", metavar="NAME", help="a known export's layout: shopify, hubspot, salesforce, mailchimp, "
                     "google, outlook (default: detected from the header row)")
    imp.add_argument("--update", action="store_true", help="update (PUT) contacts the customer already has whose "
                     "note, handle, default or order differ from the file's (the journal's and the store's); needs update_customers")
    imp.add_argument("--create-customers", action="store_true",
                     help="create the customers named by email that the store lacks (POST /customers, once each)")
    imp.add_argument("--sandbox-customers", type=Path, metavar="FILE",
                     help="with --sandbox (or --dry-run alone): the sandbox holds exactly these customers (CSV "
                          "id,email[,name][,contacts], e.g. the store's customer export), so a trial shows not-found "
                          "and mismatched rows")
    imp.add_argument("--limit", type=_positive_int, metavar="N", help="the first N data rows only (a trial on a big file)")
    imp.add_argument("--header-row", type=_positive_int, metavar="N", help="the header's row (default: found where it "
                     "is; titles and banners above it are skipped and named)")
    _output_arguments(imp)

    col = sub.add_parser("columns", help="how each header of a file maps; writes a mapping file to edit",
                         description="Show what an import would read each header as, and write a header,field "
                                     "mapping (every header named; 'ignore' where unused) to edit and pass back "
                                     "with --mapping.")  # fmt: skip
    col.add_argument("files", nargs="+", metavar="FILE")
    col.add_argument("--sheet", action="append", default=[], metavar="NAME", help="sheet to read (repeatable)")
    col.add_argument("--mapping", type=Path, metavar="FILE", help="a mapping to apply first")
    col.add_argument("--customer-key", metavar="COLUMN")
    col.add_argument("--match-by", choices=("id", "email"), default=None)
    col.add_argument("--header-row", type=_positive_int, metavar="N", help="the header's row (default: found where it is)")
    col.add_argument("--out", type=Path, metavar="PATH", help="the mapping file to write (default <first file>.mapping.csv "
                     "in the current folder, numbered on if taken: -2, -3, ...); a file there is never overwritten")

    _undo_arguments(sub)

    from importer.ui.command import add_arguments as ui_arguments  # the page's options (importer.ui)
    ui = sub.add_parser("ui", help="a page on this machine: files, columns, check, send, watch, undo")
    ui_arguments(ui)
    _store_arguments(ui)
    sbx = sub.add_parser("sandbox", help="serve the local Ecwid emulator on loopback")
    from importer.sandbox import add_arguments

    add_arguments(sbx)
    return parser


UNDO_EPILOG = """\
examples:
  ecwid-contacts undo 20261126-214501-3f2a --store-id 1003 --dry-run   # what would be deleted
  ecwid-contacts undo 20261126-214501-3f2a --store-id 1003             # delete it (run again to continue)

exit codes: 0 every contact of the run deleted (or already gone); 1 some kept (changed since) or
failed; 2 usage error (no such run in the journal): nothing was deleted; 3 stopped early (report written)
"""


def _undo_arguments(sub) -> None:
    und = sub.add_parser("undo", help="delete the contacts one import run created (RUN_ID: in its report)",
                         formatter_class=argparse.RawDescriptionHelpFormatter, epilog=UNDO_EPILOG)
    und.add_argument("run_id", metavar="RUN_ID", help="the run to undo, as its report names it")
    _target_arguments(und, "the import's journal (default: the store's, as for import)")
    und.add_argument("--dry-run", action="store_true", help="read and match; list what would be deleted, delete nothing")
    und.add_argument("--force", action="store_true", help="delete contacts changed since the run too")
    und.add_argument("--delete-customers", action="store_true",
                     help="also delete the customers the run created (--create-customers) once they hold nothing else")
    _pacing_arguments(und)
    _output_arguments(und)


# The arguments import and undo share, defined once: the store (importer.options.Target; the page's too), the
# pacing (Pacing), where the report goes and how loud.
def _target_arguments(parser, journal_help: str) -> None:
    _store_arguments(parser)
    parser.add_argument("--journal", type=Path, metavar="PATH", help=journal_help)


def _store_arguments(parser) -> None:
    parser.add_argument("--store-id", type=_positive_int, default=None, help="store id (default: env ECWID_STORE_ID)")
    parser.add_argument("--token-file", type=Path, help="file holding the API token (default: env ECWID_TOKEN)")
    # Accepted only to refuse it with a clear message: a token on the command line
    # lands in shell history and `ps`. The value is never echoed.
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", default=None,
                        help="API base (default: env ECWID_API_URL or https://app.ecwid.com/api/v3)")


def _pacing_arguments(parser) -> None:
    parser.add_argument("--rate", type=_positive_float, help="requests per minute (default just under Ecwid's 600)")
    parser.add_argument("--concurrency", type=_positive_int, help="requests in flight")
    parser.add_argument("--retries", type=_non_negative_int,
                        help="attempts per request after the first, for retryable failures")


def _output_arguments(parser) -> None:
    parser.add_argument("--report-dir", type=Path, default=Path("reports"), help="where reports go (default ./reports)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument("--quiet", action="store_true", help="no progress or summary on stderr")
    loud.add_argument("--verbose", action="store_true", help="more detail on stderr (and tracebacks)")


def _undo(args) -> int:
    from importer.ecwid import DEFAULT_API_URL, check_api_url
    from importer.options import from_args
    from importer.runs.undo import UndoOptions, run_undo

    api_url = check_api_url(args.api_url or os.environ.get("ECWID_API_URL") or DEFAULT_API_URL)
    options = from_args(UndoOptions, args, store_id=_store_id(args), token=_read_token(args), api_url=api_url,
                        report_dir=_report_dir(args.report_dir))  # fmt: skip
    return _said(args, run_undo(args.run_id, options), lambda result: "to continue, run the same undo again")


def _said(args, result, how_to_continue) -> int:
    """The run's summary on stderr (unless --quiet), why it stopped, the JSON summary (--json); its exit code."""
    from importer.report import print_summary

    if not args.quiet:
        print_summary(result.summary, result.report_path, stream=sys.stderr)
    if result.stopped is not None:  # an error: said even with --quiet, like any other
        print(f"{PROG}: stopped: {result.stopped.message}", file=sys.stderr)
        print(f"{PROG}: {how_to_continue(result)}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.summary, indent=2, default=str))
    return result.exit_code


def _read_token(args) -> str | None:
    from importer.ecwid import clean_token

    if args.token is not None:
        raise UsageError("refusing --token: a token on the command line lands in shell history; set ECWID_TOKEN or use --token-file")
    if args.token_file is not None:
        # Its argument is never echoed: `--token-file secret_...` would print the token.
        try:
            text = args.token_file.read_bytes().decode("utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read the file given to --token-file: {exc.strerror or type(exc).__name__} "
                             "(its name is not shown, in case it is the token itself)") from None
        except UnicodeDecodeError:
            raise UsageError("the file given to --token-file is not UTF-8 text") from None
        token = clean_token(text, "in --token-file")
        if not token:
            raise UsageError("the file given to --token-file is empty")
        return token
    return clean_token(os.environ.get("ECWID_TOKEN", ""), "in ECWID_TOKEN") or None


def _store_id(args) -> int | None:
    if args.store_id is not None:
        return args.store_id
    env = os.environ.get("ECWID_STORE_ID", "").strip()
    if not env:
        return None
    if not env.isdigit() or int(env) <= 0:
        raise UsageError("ECWID_STORE_ID must be a positive integer")
    return int(env)


def _report_dir(path: Path) -> Path:
    # Checked before reading or sending anything: a report (and the journal) that
    # cannot be written after a long run would lose what the run did. Nothing is
    # created yet, so a usage error leaves no empty folder behind.
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"--report-dir {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--report-dir {path}: {existing} is not writable")
    return path


def _options(args):
    from importer.ecwid import DEFAULT_API_URL, check_api_url
    from importer.options import from_args
    from importer.runs.pipeline import ImportOptions

    delimiter = args.delimiter
    if delimiter is not None and delimiter.lower() in ("tab", "\\t"):
        delimiter = "\t"
    # A dry run uses a configured token for read-only customer lookups, but never needs one.
    token = None if args.sandbox else _read_token(args)
    api_url = args.api_url or os.environ.get("ECWID_API_URL") or DEFAULT_API_URL
    if not args.sandbox and (token or not args.dry_run):
        check_api_url(api_url)  # before reading a large file, not after
    return from_args(ImportOptions, args, store_id=_store_id(args), token=token, api_url=api_url,
                     sheets=tuple(args.sheet), delimiter=delimiter, report_dir=_report_dir(args.report_dir))


def _import(args) -> int:
    from importer.runs.pipeline import run_import

    if args.token is not None:  # refuse even in a dry run: it is already in the shell history
        _read_token(args)
    return _said(args, run_import(args.files, _options(args)), _how_to_continue)


def _columns(args) -> int:
    from importer.runs.columns import column_lines, describe_columns, write_mapping_template

    refusals: dict[str, str] = {}  # a file the import would refuse: described anyway, its mapping written
    tables = describe_columns(args.files, sheets=tuple(args.sheet), mapping=args.mapping,
                              customer_key=args.customer_key, match_by=args.match_by,
                              header_row=args.header_row, refusals=refusals)  # fmt: skip
    out = args.out or _unused(Path(f"{Path(args.files[0]).stem}.mapping.csv"))
    write_mapping_template(tables, out, refusals)
    for table in tables:
        print("\n".join(column_lines(table, refusals.get(table.file, ""))))
    print(f"Mapping written to {out}: edit it, then import with --mapping {out}")
    return 1 if refusals else 0


def _unused(path: Path) -> Path:  # crm.mapping.csv, else crm.mapping-2.csv, -3, ...: an edit is never overwritten
    numbered = (path.with_name(f"{path.stem}-{n}{path.suffix}") for n in itertools.count(2))
    return next(free for free in itertools.chain([path], numbered) if not free.exists())


def _how_to_continue(result) -> str:
    lead = "to continue" if result.stopped.error_code == Code.INTERRUPTED else "once that is fixed, to continue"
    if result.summary.get("dry_run"):  # it sent nothing, so wrote no errors.csv of rows not sent
        return lead.replace("to continue", "run the same command again (a dry run sends nothing)")
    if result.summary.get("batch", {}).get("left_at_ecwid"):
        lead = (f"{result.summary['batch']['left_at_ecwid']} batch(es) Ecwid had accepted keep running there "
                f"(the batch API has no cancel for them); {lead}")
    if result.summary.get("journal"):
        return f"{lead}, run the same command again: the journal skips what was created and has the store checked for the rows in doubt"
    return f"{lead}, import the rows not sent from {result.report_path}/errors.csv"


@guarded_streams()  # a closed stdout or stderr never ends a run: its output goes quiet
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in argv
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        args = build_parser().parse_args(argv)
        if args.command == "sandbox":
            from importer.sandbox import config_from_args, serve_forever

            try:
                config = config_from_args(args)
            except argparse.ArgumentTypeError as exc:  # a bad value or an unreadable CSV: a usage error, as for import
                raise UsageError(str(exc)) from None
            serve_forever(config, port=args.port)
            return 0
        if args.command == "columns":
            return _columns(args)
        if args.command == "undo":
            return _undo(args)
        if args.command == "ui":  # the token and store read here, as for import
            from importer.ui.command import run
            return run(args, token=_read_token(args), store_id=_store_id(args), report_dir=_report_dir(args.report_dir))
        return _import(args)
    except ImporterError as exc:
        if verbose and exc.exit_code != 2:  # a usage error or a bad file is one line, even with --verbose
            from importer.ecwid import scrub_held
            logging.error("stopped\n%s", scrub_held(traceback.format_exc()))
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `... --json | head`: the reader left; not our error
        return 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted before anything was sent", file=sys.stderr)
        return 3
    except Exception as exc:  # a bug of ours: still one line, the traceback only on request
        from importer.ecwid import scrub_held  # the exception's text may hold the token (an echoing server's page)

        if verbose:
            logging.error("internal error\n%s", scrub_held(traceback.format_exc()))
        print(f"{PROG}: internal error: {scrub_held(f'{type(exc).__name__}: {exc}')} (run with --verbose for details)",
              file=sys.stderr)  # fmt: skip
        return 1
