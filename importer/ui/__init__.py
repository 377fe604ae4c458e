"""`ecwid-contacts ui`: a page on this machine for the whole import: files, columns, check, send, history.

    from importer.ui.serve import serve
    from importer.ui.session import Target
    serve(Target(store_id=1003, token=token, source="ECWID_TOKEN"), report_dir=Path("reports"),
          port=0, open_browser=True)            # blocks until Ctrl-C; prints the page's address

The package's __init__ imports nothing, so the CLI's parser (importer.ui.command) stays
light; the web stack loads when the page starts.

The page calls the library as the CLI does (importer.runs.columns, run_import, run_undo);
its progress is the run's own events (importer.events). It serves on 127.0.0.1 only,
and every request needs the random key in the address it prints (importer.ui.app).
The token stays in this process: read from the environment or a token file before the
page starts, it is never written into a page, a URL, an event or a log. Uploads go to a
temporary folder removed when the page stops; reports of sends and undos go to the
report folder, as the CLI's.
"""
