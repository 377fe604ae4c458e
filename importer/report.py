"""results.csv / results.xlsx / errors.csv / summary.json / terminal summary.

Interface (used by importer.pipeline):

    path = write_report(records, tables, summary, report_dir=Path, run_id=str)
    print_summary(summary, path, stream=sys.stderr)
"""
