"""Rules over records: outcome `invalid`, `duplicate` or `valid` for each.

Interface (used by importer.pipeline):

    records = validate(records)   # list in, list out, same order and length
"""
