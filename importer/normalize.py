"""Per-type cleaning: emails, E.164 phones, social URL <-> handle, booleans, ints.

Interface (used by importer.pipeline):

    norm = Normalizer(phone_region="US" | None, store_id=1003 | None)
    record = norm(raw_contact, index)     # -> ContactRecord, errors as data

Pure functions underneath, cached per distinct value: normalizing an already
normalized value returns it unchanged (idempotent).
"""
