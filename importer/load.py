"""Files -> RawContacts: encodings, delimiters, sheets, header mapping, wide -> long.

Interface (used by importer.pipeline):

    stats = LoadStats()
    for raw in load(paths, sheets=(), mapping=None, encoding=None, delimiter=None,
                    stats=stats, log=logger):
        ...

* yields RawContact in input order (file, sheet, row); one per long-layout row,
  one per non-empty contact cell in wide layout (all sharing the row's `cells`);
* raises errors.InputError(path, problem) for a file that cannot be input;
* fills `stats`: tables (SourceTable per file/sheet), rows (source rows read),
  blank_rows (entirely blank rows skipped), hidden_sheets skipped.
"""
