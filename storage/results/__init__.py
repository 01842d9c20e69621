"""The Parquet result store: tile parts, the ledger, shards and lookups.

:class:`~linkscan.storage.results.store.ResultStore` is the store; its methods live in
the modules of this package, by what they do:

- :mod:`~linkscan.storage.results.store`: the store itself, creating it (or resuming
  it) and its manifest; finding the stores of a folder;
- :mod:`~linkscan.storage.results.schema`: the result columns and dtypes as data, the
  shard size, the row groups and compression of Parquet files;
- :mod:`~linkscan.storage.results.files`: writing files whole or not at all;
- :mod:`~linkscan.storage.results.lock`: one submitter at a time, and its failures;
- :mod:`~linkscan.storage.results.ledger`: tile parts and the ledger;
- :mod:`~linkscan.storage.results.shards`: the BH tables, the finished shards, the
  completion mark, the check of every shard (``verify``);
- :mod:`~linkscan.storage.results.checksums`: what complete.json records of each shard
  (size, sha256, CRC-32 of its footer and of each row group) and the checked reads;
- :mod:`~linkscan.storage.results.lookup`: lookups of a finished store.

The store reads and writes; it computes nothing. The finish of a scan (BH q-values over
the whole scan, attached to each shard) is the engine's: :mod:`linkscan.engine.finish`.

Layout of a result store (a local folder, or an fsspec URL such as ``s3://bucket/res``:
see :mod:`linkscan.storage.location`)::

    manifest.json             what the scan is (kind, fingerprint, cohorts, shard size)
    features.parquet          code -> feature id, gene, omics: every entity of the scan
                              (features of each omics, phenotypes, ...); rows store codes
    lock                      the submission running now (host, process, since)
    ledger/<tile>.json        one per finished tile: its part files, rows, checksums, timing
    failures.jsonl            tiles that failed, with their errors
    parts/<shard>/<tile>.parquet
                              a tile's rows whose query entity falls in <shard>
    bh/<column>.values.npy    every distinct |p| of a column over the whole scan (-log10,
    bh/<column>.log10q.npy    ascending) and its BH q
    shards/<shard>.parquet    the finished shard: all rows of its entities, sorted by
                              (feature, partner), with q columns, row groups of up to 8
                              features and about 32k rows, a missing result a Parquet null
    complete.json             written last, with each shard's checksums; a lookup refuses
                              a store without it, and checks what it reads of a shard

A tile is finished when its parts are under their final names and its ledger entry
exists (every file is written whole or not at all: a local one under a temporary name
then renamed, an object in one PUT; so a killed process leaves no half-written file
under a final name, and the ledger entry, written last, commits the tile). Finishing the job compacts each shard's parts
into one file whose bytes depend only on the scan's inputs and options, never on the
tile size, the number of workers or what failed on the way.

The shard of a feature is ``code // shard_size``: a lookup is a dictionary lookup, one
file open and a read of the row groups that hold the feature, each checked against its
CRC-32 in complete.json. Resuming a store makes its ``ledger/``, ``parts/`` and
``shards/`` folders again if they were deleted, so that a store whose complete.json and
shards/ were deleted (the fix printed for a damaged shard) is finished again: its
ledger entries no longer find their parts, which were removed at completion, so every
tile is computed again.
"""
